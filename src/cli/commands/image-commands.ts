import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { GenerateResult } from '../../families/unipic1/generation/generate.js';
import type { ImageRunEvent } from '../../core/generation/events.js';
import type { Run } from '../../core/run/run.js';
import { numberOption, parse, required } from '../arguments.js';
import { createProgressBar } from '../progress-bar.js';
import { loadWithProgress } from './load-model.js';

const SAMPLING = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  out: { type: 'string' },
  size: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  'guidance-schedule': { type: 'string' },
  temperature: { type: 'string' },
  'diffusion-steps': { type: 'string' },
  'num-images': { type: 'string' },
  seed: { type: 'string' },
  device: { type: 'string' },
  dtype: { type: 'string' },
} as const;

function samplingOptions(values: Record<string, string | boolean | undefined>) {
  const option = (name: string) => values[name] as string | undefined;
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return defined({
    prompt: required(option('prompt'), 'prompt'),
    negativePrompt: option('negative-prompt'),
    size: numberOption(option('size'), 'size'),
    steps: numberOption(option('steps'), 'steps'),
    guidance: numberOption(option('guidance'), 'guidance'),
    guidanceSchedule: option('guidance-schedule') as 'constant' | 'linear' | undefined,
    temperature: numberOption(option('temperature'), 'temperature'),
    diffusionSteps: numberOption(option('diffusion-steps'), 'diffusion-steps'),
    numImages: numberOption(option('num-images'), 'num-images'),
    seed: numberOption(option('seed'), 'seed'),
  });
}

/** Output file for image i of n: `out.png`, or `out-1.png`, `out-2.png`… for several. */
function outputPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const extension = extname(out) || '.png';
  return `${out.slice(0, out.length - extname(out).length)}-${index + 1}${extension}`;
}

async function drive(run: Run<ImageRunEvent, GenerateResult>, out: string, signal: AbortSignal): Promise<void> {
  const bar = createProgressBar('sample');
  signal.addEventListener('abort', () => run.abort(signal.reason), { once: true });
  try {
    for await (const event of run) {
      if (event.type === 'step-finish') bar.update(event.iteration + 1, event.iterations, `${event.known} tokens`);
      if (event.type === 'warning') process.stderr.write(`warning: ${event.message}\n`);
    }
  } finally {
    bar.stop();
  }
  const result = await run.result;
  for (const [i, image] of result.images.entries()) {
    const path = outputPath(out, i, result.images.length);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, image.toPNG());
    process.stdout.write(`${path}\n`);
  }
  process.stderr.write(`seed ${result.seed}, ${(result.timings.totalMs / 1000).toFixed(1)} s\n`);
}

export async function generateCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, SAMPLING);
  const model = await loadWithProgress(required(values.model, 'model'), loadOptions(values));
  try {
    await drive(model.generate({ ...samplingOptions(values), signal } as never), required(values.out, 'out'), signal);
  } finally {
    await model.dispose();
  }
}

export async function editCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, { ...SAMPLING, image: { type: 'string' } });
  const model = await loadWithProgress(required(values.model, 'model'), loadOptions(values));
  try {
    const image = required(values.image, 'image');
    await drive(model.edit({ ...samplingOptions(values), image, signal } as never), required(values.out, 'out'), signal);
  } finally {
    await model.dispose();
  }
}

export function loadOptions(values: Record<string, string | boolean | undefined>) {
  return {
    ...(values.device ? { device: values.device as never } : {}),
    ...(values.dtype ? { dtype: values.dtype as never } : {}),
  };
}
