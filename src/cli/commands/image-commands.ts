import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { ImageResult } from '../../families/unipic1/generation/image-result.js';
import type { ImageRunEvent } from '../../core/generation/events.js';
import type { Run } from '../../core/run/run.js';
import { parseOutpaintSpec } from '../../core/region/outpaint-canvas.js';
import { numberOption, parse, required, UsageError } from '../arguments.js';
import { RANGES } from '../command-help.js';
import { createProgressBar } from '../progress-bar.js';
import { choice, loadOptions } from './load-options.js';
import { loadWithProgress } from './load-model.js';
import { kontextImageCommand, samplerFamilyOf } from './kontext-commands.js';

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
  // UniPic2-SD3.5M-Kontext models only.
  width: { type: 'string' },
  height: { type: 'string' },
  'longer-edge': { type: 'string' },
  'no-t5': { type: 'boolean' },
  // Region editing (docs/api.md, "Regions").
  mask: { type: 'string' },
  outpaint: { type: 'string' },
  'mask-threshold': { type: 'string' },
  'mask-dilation': { type: 'string' },
  feather: { type: 'string' },
  'no-composite': { type: 'boolean' },
} as const;

const KONTEXT_ONLY = ['width', 'height', 'longer-edge', 'no-t5'];

function refuseKontextOnly(values: Record<string, string | boolean | undefined>): void {
  const given = KONTEXT_ONLY.filter((name) => values[name] !== undefined);
  if (given.length) throw new UsageError(`--${given.join(', --')} apply to UniPic2-SD3.5M-Kontext models only`);
}

/** The region flags as options; empty when none is given. */
function regionOptions(values: Record<string, string | boolean | undefined>) {
  const option = (name: string) => values[name] as string | undefined;
  const outpaint = option('outpaint');
  return Object.fromEntries(
    Object.entries({
      mask: option('mask'),
      outpaint: outpaint === undefined ? undefined : parseOutpaintSpec(outpaint),
      maskThreshold: numberOption(option('mask-threshold'), 'mask-threshold', RANGES['mask-threshold']),
      maskDilation: numberOption(option('mask-dilation'), 'mask-dilation', RANGES['mask-dilation']),
      feather: numberOption(option('feather'), 'feather', RANGES.feather),
      composite: values['no-composite'] ? false : undefined,
    }).filter(([, v]) => v !== undefined),
  );
}

function samplingOptions(values: Record<string, string | boolean | undefined>) {
  const option = (name: string) => values[name] as string | undefined;
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return defined({
    prompt: required(option('prompt'), 'prompt'),
    negativePrompt: option('negative-prompt'),
    size: numberOption(option('size'), 'size', RANGES.size),
    steps: numberOption(option('steps'), 'steps', RANGES.steps),
    guidance: numberOption(option('guidance'), 'guidance', RANGES.guidance),
    guidanceSchedule: choice(option('guidance-schedule'), 'guidance-schedule', ['constant', 'linear'] as const),
    temperature: numberOption(option('temperature'), 'temperature', RANGES.temperature),
    diffusionSteps: numberOption(option('diffusion-steps'), 'diffusion-steps', RANGES['diffusion-steps']),
    numImages: numberOption(option('num-images'), 'num-images', RANGES['num-images']),
    seed: numberOption(option('seed'), 'seed', RANGES.seed),
  });
}

/** Output file for image i of n: `out.png`, or `out-1.png`, `out-2.png`… for several. */
function outputPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const extension = extname(out) || '.png';
  return `${out.slice(0, out.length - extname(out).length)}-${index + 1}${extension}`;
}

async function drive(run: Run<ImageRunEvent, ImageResult>, out: string, signal: AbortSignal): Promise<void> {
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
  const { values } = parse(args, { ...SAMPLING, image: { type: 'string' } });
  const sampler = values.model ? samplerFamilyOf(values.model) : undefined;
  if (sampler) return kontextImageCommand('generate', values, signal, sampler);
  refuseKontextOnly(values);
  // Every option is checked before the model loads: a typo costs no load.
  const options = samplingOptions(values);
  const region = regionOptions(values);
  const out = required(values.out, 'out');
  const model = await loadWithProgress(required(values.model, 'model'), loadOptions(values));
  try {
    const image = values.image === undefined ? {} : { image: values.image };
    await drive(model.generate({ ...options, ...image, ...region, signal } as never), out, signal);
  } finally {
    await model.dispose();
  }
}

export async function editCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, { ...SAMPLING, image: { type: 'string' } });
  const sampler = values.model ? samplerFamilyOf(values.model) : undefined;
  if (sampler) return kontextImageCommand('edit', values, signal, sampler);
  refuseKontextOnly(values);
  const options = samplingOptions(values);
  const region = regionOptions(values);
  const image = required(values.image, 'image');
  const out = required(values.out, 'out');
  const model = await loadWithProgress(required(values.model, 'model'), loadOptions(values));
  try {
    await drive(model.edit({ ...options, image, ...region, signal } as never), out, signal);
  } finally {
    await model.dispose();
  }
}
