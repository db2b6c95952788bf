import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { loadImage } from '../../../core/image/load-image.js';
import { randomSeed, SeededRandom, type RandomSource } from '../../../core/random/random-source.js';
import type { RunController } from '../../../core/run/run.js';
import { flowMatchSchedule } from '../flow-match-scheduler.js';
import type { KontextConfig } from '../kontext-config.js';
import { denoise } from './denoise.js';
import { encodePrompts, type KontextTokenizers } from './encode-prompts.js';
import { referencePixels } from './edit-image.js';
import type { KontextResult, KontextRunEvent } from './kontext-events.js';
import type { KontextGraphRunner } from './kontext-graph-runner.js';
import type { ParsedKontextEditOptions, ParsedKontextGenerateOptions } from './kontext-options.js';
import { decodeLatent, encodeReference } from './vae-pixels.js';

export interface KontextContext {
  readonly graphs: KontextGraphRunner;
  readonly config: KontextConfig;
  readonly tokenizers: KontextTokenizers;
}

function checkSize(config: KontextConfig, width: number, height: number): void {
  const t = config.transformer;
  const limit = t.positionTable.maxSize * t.patchSize * config.vae.stride;
  const unit = t.patchSize * config.vae.stride;
  const issues = [];
  for (const [path, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value % unit !== 0) issues.push({ path, message: `${value} is not a multiple of ${unit}` });
    if (value > limit) issues.push({ path, message: `${value} is larger than this model's position table allows (${limit})` });
  }
  if (issues.length) throw new InvalidOptionsError(`invalid size: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { details: { issues } });
}

/** Shared body of generate and edit: encode, denoise (with events), decode. */
async function sample(
  context: KontextContext,
  controller: RunController<KontextRunEvent>,
  options: ParsedKontextGenerateOptions | ParsedKontextEditOptions,
  size: { width: number; height: number },
  reference: ((random: RandomSource) => Promise<Float32Array>) | undefined,
): Promise<KontextResult> {
  const started = Date.now();
  const { graphs, config } = context;
  const { signal } = controller;
  const seed = options.seed ?? randomSeed();
  const random = options.random ?? new SeededRandom(seed);
  const useT5 = options.t5 && graphs.has('t5_encoder');
  if (options.t5 && !useT5)
    controller.emit({ type: 'warning', code: 'no-t5', message: 'this model has no T5 encoder: running with zero T5 embeddings, which changes outputs' });
  const guided = options.guidance > 1;
  const texts = guided ? [options.negativePrompt, options.prompt] : [options.prompt];
  const prompts = await encodePrompts(graphs, context.tokenizers, config, texts, { useT5, signal });
  const referenceLatent = reference ? await reference(random) : undefined;
  const encodeMs = Date.now() - started;

  const h = size.height / config.vae.stride;
  const w = size.width / config.vae.stride;
  const dims = [1, config.transformer.inChannels, h, w];
  const latent = random.normal(dims[1] * h * w, { kind: 'initial-latent' });
  const schedule = flowMatchSchedule(options.steps, config.scheduler);
  const steps = options.steps;
  const samplingStarted = Date.now();
  await denoise(graphs, config, {
    latent,
    height: h,
    width: w,
    reference: referenceLatent,
    prompts,
    guidance: options.guidance,
    schedule,
    signal,
    onStepStart: (step) => controller.emit({ type: 'step-start', step, steps }),
    onStepEnd: async (step, velocity) => {
      if (options.preview && ((step + 1) % options.preview === 0 || step === steps - 1)) {
        const sigma = schedule.sigmas[step];
        const clean = Float32Array.from(latent, (x, i) => Math.fround(x - Math.fround(sigma * velocity[i])));
        const { images } = await decodeLatent(graphs, config, clean, dims, signal);
        controller.emit({ type: 'image-preview', step, images });
      }
      controller.emit({ type: 'step-finish', step, steps, elapsedMs: Date.now() - started });
    },
  });
  const decodeStarted = Date.now();
  const { images } = await decodeLatent(graphs, config, latent, dims, signal);
  const timings = { encodeMs, samplingMs: decodeStarted - samplingStarted, decodeMs: Date.now() - decodeStarted, totalMs: Date.now() - started };
  controller.emit({ type: 'finish', timings });
  return { images, seed, width: size.width, height: size.height, latent: { dims, data: latent }, timings };
}

/** Text → image as the official script (spec §3.2). */
export function generateKontext(context: KontextContext, controller: RunController<KontextRunEvent>, options: ParsedKontextGenerateOptions): Promise<KontextResult> {
  checkSize(context.config, options.width, options.height);
  return sample(context, controller, options, { width: options.width, height: options.height }, undefined);
}

/** Image + instruction → image as the official editing script (spec §3.3). */
export async function editKontext(context: KontextContext, controller: RunController<KontextRunEvent>, options: ParsedKontextEditOptions): Promise<KontextResult> {
  const image = await loadImage(options.image, { signal: controller.signal });
  const source = referencePixels(image, options.longerEdge, options.sizeMultiple);
  checkSize(context.config, source.width, source.height);
  const encode = async (random: RandomSource) => {
    const eps = options.reference === 'sample' ? (count: number) => random.normal(count, { kind: 'posterior-sample' }) : undefined;
    const ref = await encodeReference(context.graphs, context.config, source.pixels, [1, 3, source.height, source.width], eps, controller.signal);
    return ref.latent;
  };
  return sample(context, controller, options, { width: source.width, height: source.height }, encode);
}
