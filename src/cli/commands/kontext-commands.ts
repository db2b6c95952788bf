import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KontextResult, KontextRunEvent } from '../../families/unipic2-kontext/pipeline/kontext-events.js';
import type { Run } from '../../core/run/run.js';
import { numberOption, required, UsageError } from '../arguments.js';
import { loadOptions } from './load-options.js';
import { loadWithProgress } from './load-model.js';
import { createProgressBar } from '../progress-bar.js';

/** The families whose generate/edit run the shared SD3 sampler (and take these commands' options). */
const SAMPLER_FAMILIES: Readonly<Record<string, string>> = { 'unipic2-kontext': 'UniPic2-SD3.5M-Kontext', 'unipic2-metaquery': 'UniPic2-Metaquery' };

/** The family id when a local model folder holds a converted model of a family on the SD3 sampler. */
export function samplerFamilyOf(path: string): string | undefined {
  const manifest = join(path, 'unipic.json');
  if (!existsSync(manifest)) return undefined;
  try {
    const family = (JSON.parse(readFileSync(manifest, 'utf8')) as { family?: unknown }).family;
    return typeof family === 'string' && family in SAMPLER_FAMILIES ? family : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `unipic generate|edit` on a converted UniPic2-Kontext or -Metaquery folder: loaded like any model
 * (`UniPic.load` picks the family from unipic.json), with the sampler's options instead of UniPic-1's.
 */
export async function kontextImageCommand(
  kind: 'generate' | 'edit',
  values: Record<string, string | boolean | undefined>,
  signal: AbortSignal,
  family = 'unipic2-kontext',
): Promise<void> {
  const option = (name: string) => values[name] as string | undefined;
  const name = SAMPLER_FAMILIES[family] ?? family;
  for (const unsupported of [
    'size',
    'guidance-schedule',
    'temperature',
    'diffusion-steps',
    'num-images',
    'mask',
    'outpaint',
    'mask-threshold',
    'mask-dilation',
    'feather',
    'no-composite',
    ...(kind === 'generate' ? ['image'] : []),
    // Metaquery has no T5: its text stream is the VLM + conditioner's.
    ...(family === 'unipic2-metaquery' ? ['no-t5'] : []),
  ]) {
    if (values[unsupported] !== undefined) throw new UsageError(`--${unsupported} does not apply to ${name} models`);
  }
  const model = await loadWithProgress(required(option('model'), 'model'), loadOptions(values));
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const shared = defined({
    prompt: required(option('prompt'), 'prompt'),
    negativePrompt: option('negative-prompt'),
    steps: numberOption(option('steps'), 'steps'),
    guidance: numberOption(option('guidance'), 'guidance'),
    seed: numberOption(option('seed'), 'seed'),
    t5: values['no-t5'] ? false : undefined,
  });
  try {
    const run = (kind === 'generate'
      ? model.generate({
          ...shared,
          ...defined({ width: numberOption(option('width'), 'width'), height: numberOption(option('height'), 'height') }),
          signal,
        } as never)
      : model.edit({
          ...shared,
          image: required(option('image'), 'image'),
          ...defined({ longerEdge: numberOption(option('longer-edge'), 'longer-edge') }),
          signal,
        } as never)) as unknown as Run<KontextRunEvent, KontextResult>;
    await drive(run, required(option('out'), 'out'), signal);
  } finally {
    await model.dispose();
  }
}

async function drive(run: Run<KontextRunEvent, KontextResult>, out: string, signal: AbortSignal): Promise<void> {
  const bar = createProgressBar('sample');
  signal.addEventListener('abort', () => run.abort(signal.reason), { once: true });
  try {
    for await (const event of run) {
      if (event.type === 'step-finish') bar.update(event.step + 1, event.steps, `step ${event.step + 1}`);
      if (event.type === 'warning') process.stderr.write(`warning: ${event.message}\n`);
    }
  } finally {
    bar.stop();
  }
  const result = await run.result;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, result.images[0].toPNG());
  process.stdout.write(`${out}\n`);
  process.stderr.write(`seed ${result.seed}, ${result.width}×${result.height}, ${(result.timings.totalMs / 1000).toFixed(1)} s\n`);
}
