import { MAX_SEED } from '../core/options/common.js';
import { describeRange, type NumberRange } from './arguments.js';

/** Numeric options with the SDK's bounds (src/core/options): checked by the CLI, shown in --help. */
export const RANGES = {
  size: { min: 16, integer: true },
  steps: { min: 1, max: 256, integer: true },
  guidance: { min: 1, max: 50 },
  temperature: { min: 0, exclusiveMin: true, max: 10 },
  'diffusion-steps': { min: 1, max: 1000, integer: true },
  'num-images': { min: 1, max: 16, integer: true },
  seed: { min: 0, max: MAX_SEED, integer: true },
  'max-tokens': { min: 1, max: 32768, integer: true },
  'text-temperature': { min: 0, exclusiveMin: true, max: 100 },
  resolutions: { min: 16, integer: true },
  'mask-threshold': { min: 0, max: 1, exclusiveMax: true },
  'mask-dilation': { min: 0, max: 64, integer: true },
  feather: { min: 0, max: 512, integer: true },
} as const satisfies Record<string, NumberRange>;

const range = (name: keyof typeof RANGES) => describeRange(RANGES[name]);

const MODEL = `  --model <m>            a converted model folder, or an http(s) URL of one (required)`;
const LOAD = `  --device <d>           auto (default: cuda → webgpu → cpu), cuda, webgpu or cpu
  --dtype <t>            auto (default), fp32, fp16, q4, q4f16 or q8; must be one the folder has`;
const SAMPLING = `  --prompt "..."         what to draw (required)
  --out <file.png>       where to write the PNG (required; several images: out-1.png, out-2.png…)
  --size <px>            default: the largest converted size; ${range('size')}, a multiple of 16
  --steps <n>            MAR iterations; default 32; ${range('steps')}
  --diffusion-steps <n>  DDPM steps per token; default 100; ${range('diffusion-steps')}
  --guidance <g>         CFG scale; default 3; ${range('guidance')} (1 turns guidance off)
  --guidance-schedule    constant (default) or linear
  --temperature <t>      diffusion noise scale; default 1; ${range('temperature')}
  --num-images <n>       default 1; ${range('num-images')}
  --seed <n>             default: random (printed); ${range('seed')}
  --negative-prompt "…"  the unconditional prompt`;
const REGION = `  --mask <file>          regenerate only the white area of this mask (same aspect as the image)
  --outpaint <side:px>   extend the canvas, e.g. right:256 (left, top, right, bottom)
  --mask-threshold <f>   share of a token's pixels that must be masked; default 0 (any); ${range('mask-threshold')}
  --mask-dilation <n>    grow the mask by n latent tokens; default 0; ${range('mask-dilation')}
  --feather <px>         width of the blend into the source; default 16; ${range('feather')}
  --no-composite         return the decoded image without pasting the source back`;

export const COMMAND_HELP: Record<string, string> = {
  demo: `unipic demo [options] — build the repo's tiny random UniPic, convert it, generate an image

  --family <id>          unipic1 (default) or unipic2-kontext (UniPic2-SD3.5M-Kontext)
  --dir <dir>            where the checkpoint and the converted model go; default .cache/demo
                         (.cache/demo-<family> for another family)
  --out <file.png>       default demo.png
  --prompt "..."         default "a lighthouse at dawn"`,
  'make-tiny': `unipic make-tiny <dir> [options] — write a tiny random checkpoint in the official layout

  --seed <n>             weights' seed; default the structure's (1234); ${range('seed')}
  --family <id>          unipic1 (default), unipic2-kontext or unipic2-metaquery (Qwen2.5-VL, conditioner, transformer, VAE)`,
  convert: `unipic convert <checkpoint-dir> <out-dir> [options] — official checkpoint → model folder

  --dtype <list>         comma-separated: fp32, fp16, q4, q4f16, q8; default fp32
  --resolutions <list>   output sizes for position tables; default the model's (512,1024); each ${range('resolutions')}, a multiple of 16
  --name <name>          the manifest's name; default unipic
  --fused-sampler        also write the 100-step sampler as one graph (for GPUs)
  --kv-cache <kind>      UniPic-1's llm graph: in-place (default: decode time flat with context on CPU and
                         wasm) or concat (the cache stays on a GPU between tokens; no per-token upload)
  --report <file.json>   write every checkpoint key and config field, with what was done with it and why
  --family <id>          the checkpoint's family when detection cannot tell
  --vlm <dir>            UniPic2-Metaquery: the Qwen2.5-VL-7B-Instruct folder (default <checkpoint-dir>/Qwen2.5-VL-7B-Instruct);
                         --dtype <llm>[,<rest>] then sets the language model's precision (default q4), then the
                         vision tower's, conditioner's and transformer's (default fp32): q4,q4 is the
                         small-memory conversion
  --text-encoder <dir>   UniPic-3: the Qwen2.5-VL text encoder folder (Qwen/Qwen-Image-Edit's text_encoder/;
                         default <checkpoint-dir>/text_encoder); use --dtype q4 for the 20 B transformer

Converting into a folder that holds an earlier conversion replaces it and removes that
conversion's files the new unipic.json no longer lists (other files are left alone).`,
  info: `unipic info <model> — what a model folder holds and the device it would run on`,
  generate: `unipic generate --model <m> --prompt "..." --out out.png [options] — text → image

${MODEL}
  --image <file>         a source image, with --mask or --outpaint (region generation)
${SAMPLING}
${REGION}
${LOAD}`,
  edit: `unipic edit --model <m> --image in.png --prompt "..." --out out.png [options] — image + instruction → image

${MODEL}
  --image <file>         the image to edit (PNG, JPEG or WebP; required)
${SAMPLING}
${REGION}
${LOAD}`,
  understand: `unipic understand --model <m> --image in.png [options] — image + question → text (streamed)

${MODEL}
  --image <file>         the image (PNG, JPEG or WebP; required)
  --prompt "..."         the question; default "Describe the image in detail."
  --max-tokens <n>       default 1024; ${range('max-tokens')}
  --size <px>            side the image is resized to; default the largest converted size
  --sample               sample instead of greedy decoding (then --temperature, --seed apply)
  --temperature <t>      default: the model's generation config (UniPic-1.5B: 0.7); ${range('text-temperature')}
  --seed <n>             default: random; ${range('seed')}
${LOAD}`,
};
