import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '../../families/unipic1/convert/convert-checkpoint.js';
import { makeTinyCheckpoint } from '../../families/unipic1/convert/tiny/make-tiny.js';
import { convertKontextCheckpoint } from '../../families/unipic2-kontext/convert/convert-kontext.js';
import { makeTinyKontextCheckpoint } from '../../families/unipic2-kontext/convert/tiny-kontext.js';
import { parse, UsageError } from '../arguments.js';
import { generateCommand } from './image-commands.js';

/** What the demo builds for each family it can show, and the generate arguments it runs. */
const DEMOS = {
  unipic1: {
    build: async (checkpoint: string, model: string, signal: AbortSignal) => {
      await makeTinyCheckpoint(checkpoint);
      await convertCheckpoint(checkpoint, model, { dtypes: ['fp32'], signal });
    },
    size: ['--size', '64', '--steps', '8'],
  },
  'unipic2-kontext': {
    build: async (checkpoint: string, model: string, signal: AbortSignal) => {
      await makeTinyKontextCheckpoint(checkpoint);
      await convertKontextCheckpoint(checkpoint, model, { dtypes: ['fp32'], signal });
    },
    size: ['--width', '64', '--height', '64', '--steps', '8'],
  },
} as const;

type DemoFamily = keyof typeof DEMOS;

/**
 * The README's first command: build a family's tiny random checkpoint (its published layout),
 * convert it, and generate an image with it — the whole chain on this machine's CPU in seconds.
 */
export async function demoCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, { dir: { type: 'string' }, out: { type: 'string' }, prompt: { type: 'string' }, family: { type: 'string' } });
  const family = (values.family ?? 'unipic1') as DemoFamily;
  if (!Object.hasOwn(DEMOS, family)) throw new UsageError(`--family must be ${Object.keys(DEMOS).join(' or ')}, got "${values.family}"`);
  const demo = DEMOS[family];
  const dir = values.dir ?? (family === 'unipic1' ? '.cache/demo' : `.cache/demo-${family}`);
  const modelDir = join(dir, 'model');
  if (!existsSync(join(modelDir, 'unipic.json'))) {
    process.stderr.write(`building the tiny ${family} model in ${dir} …\n`);
    await demo.build(join(dir, 'checkpoint'), modelDir, signal);
  }
  await generateCommand(
    ['--model', modelDir, '--prompt', values.prompt ?? 'a lighthouse at dawn', '--out', values.out ?? 'demo.png', ...demo.size, '--seed', '42'],
    signal,
  );
  process.stderr.write(
    `the converted tiny model is in ${modelDir} (its checkpoint in ${join(dir, 'checkpoint')}): ` +
      `try \`npm run unipic -- info ${modelDir}\` or UniPic.load('${modelDir}')\n`,
  );
}
