import { UniPicError } from '../errors/unipic-error.js';
import { UsageError } from './arguments.js';
import { COMMAND_HELP } from './command-help.js';
import { convertCommand, makeTinyCommand } from './commands/convert-commands.js';
import { demoCommand } from './commands/demo-command.js';
import { editCommand, generateCommand } from './commands/image-commands.js';
import { infoCommand } from './commands/info-command.js';
import { understandCommand } from './commands/understand-command.js';

const HELP = `unipic — Skywork UniPic on ONNX Runtime

  unipic demo [--out demo.png] [--prompt "..."] [--dir .cache/demo] [--family unipic1|unipic2-kontext]
                                                       tiny model: build, convert, generate
  unipic make-tiny <dir> [--seed N] [--family unipic1|unipic2-kontext|unipic2-metaquery]
                                                       random tiny checkpoint, official layout
  unipic convert <checkpoint-dir> <out-dir> [--dtype fp32,q4] [--resolutions 512,1024] [--name N]
                  [--fused-sampler] [--report report.json] [--family unipic1]   (the family is detected from the checkpoint)
                  (<checkpoint-dir> may be hf:org/name[@revision][/folder])
                  [--vlm <Qwen2.5-VL-7B-Instruct dir>  (UniPic2-Metaquery)]
  unipic info <model>
  unipic generate --model <m> --prompt "..." --out out.png [--size --steps --guidance
                  --guidance-schedule --temperature --diffusion-steps --num-images --seed
                  --negative-prompt --device --dtype]
  unipic edit --model <m> --image in.png --prompt "..." --out out.png [same options]
  region editing (edit, or generate with --image): --mask mask.png (white = regenerate) and/or
                  --outpaint right:256 (sides left/top/right/bottom, or width/height), [--mask-threshold
                  --mask-dilation --feather --no-composite]
    UniPic2-SD3.5M-Kontext and -Metaquery models (detected from the folder): --width --height
                  (generate), --longer-edge (edit), --steps --guidance --negative-prompt --seed --dtype,
                  --no-t5 (Kontext)
  unipic understand --model <m> --image in.png [--prompt "..."] [--max-tokens N --size
                  --sample [--temperature --seed]]   (greedy unless --sample)

<model> is a converted model folder, an http(s) URL (cached in $UNIPIC_CACHE_DIR, else
$XDG_CACHE_HOME/unipic, else ~/.cache/unipic) or hf:org/name[@revision][/folder] on the Hugging
Face Hub (cached in the Hugging Face cache, shared with Python). hf: honours HF_TOKEN, HF_ENDPOINT,
HF_HOME / HF_HUB_CACHE and HF_HUB_OFFLINE. \`unipic <command> --help\` lists a command's options
with their defaults and ranges. UNIPIC_DEBUG=1 prints stacks on errors and why a device was skipped.`;

const COMMANDS: Record<string, (args: string[], signal: AbortSignal) => Promise<void>> = {
  demo: demoCommand,
  'make-tiny': makeTinyCommand,
  convert: convertCommand,
  info: infoCommand,
  generate: generateCommand,
  edit: editCommand,
  understand: understandCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${HELP}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${COMMAND_HELP[name] ?? HELP}\n`);
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  try {
    await command(args, controller.signal);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`unipic ${name}: ${error.message}\n\n${COMMAND_HELP[name] ?? HELP}\n`);
      return 2;
    }
    if (UniPicError.isInstance(error)) {
      process.stderr.write(`unipic ${name}: ${error.message} [${error.code}]\n`);
      return 1;
    }
    // System errors (ENOSPC, EACCES…) are the user's to fix: one line. Anything else is our bug: the
    // stack, so it can be reported. UNIPIC_DEBUG=1 always prints the stack.
    const systemCode = (error as NodeJS.ErrnoException)?.code;
    const detail = process.env.UNIPIC_DEBUG || !systemCode ? ((error as Error)?.stack ?? String(error)) : `${(error as Error).message}`;
    process.stderr.write(`unipic ${name}: ${detail}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
