import type { StripDecoderPlan } from '../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../spec/strip-encoder.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { type ImageInput, loadImage } from '../image/load-image.js';
import type { RgbImage } from '../image/rgb-image.js';
import { randomSeed, SeededRandom, type RandomSource } from '../random/random-source.js';
import type { RunController } from '../run/run.js';
import { denoise } from './denoise.js';
import type { DiffusionGraphRunner } from './diffusion-graph-runner.js';
import type { DiffusionResult, DiffusionRunEvent } from './diffusion-events.js';
import { referencePixels } from './edit-image.js';
import { flowMatchSchedule } from './flow-match-scheduler.js';
import type { PromptEmbeddings } from './prompt-embeddings.js';
import type { Sd3DiffusionConfig } from './sd3-diffusion-config.js';
import { decodeLatent, encodeReference } from './vae-pixels.js';

export interface DiffusionContext {
  readonly graphs: DiffusionGraphRunner;
  readonly config: Sd3DiffusionConfig;
  /** The model's strip decoder (manifest `stripDecoder`), used from 512 px when present. */
  readonly stripDecoder?: StripDecoderPlan;
  /** The model's strip encoder (manifest `stripEncoder`), used from 512 px when present. */
  readonly stripEncoder?: StripEncoderPlan;
}

/** The sampler's options, as every family's generate/edit schema parses them. */
export interface SampleOptions {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidance: number;
  readonly seed?: number;
  readonly random?: RandomSource;
  readonly preview?: number;
}

/**
 * The family's text side: `texts` is `[negative, positive]` when guided, else `[positive]`; the
 * result has one row per text, in that order.
 */
export type EncodePrompts = (texts: readonly string[]) => Promise<PromptEmbeddings>;

/** An output size the denoiser and its position table accept, else InvalidOptionsError. */
export function checkSampleSize(config: Sd3DiffusionConfig, width: number, height: number): void {
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

/** The edit's source: the loaded image, its `fix_longer_edge` size, and its reference-latent encoder. */
export interface EditReference {
  readonly image: RgbImage;
  /** The image at the edit size (after `fix_longer_edge`). */
  readonly sized: RgbImage;
  readonly width: number;
  readonly height: number;
  readonly encode: (random: RandomSource) => Promise<Float32Array>;
}

/** Loads and sizes the edit image as the editing scripts do (`unipic2_sd35m_kontext_editing.py`, `unipic2_mq_editing.py`) and checks the size. */
export async function editReference(
  context: DiffusionContext,
  options: { readonly image: ImageInput; readonly longerEdge: number; readonly sizeMultiple: number; readonly reference: 'mean' | 'sample' },
  signal?: AbortSignal,
): Promise<EditReference> {
  const image = await loadImage(options.image, { signal });
  const source = referencePixels(image, options.longerEdge, options.sizeMultiple);
  checkSampleSize(context.config, source.width, source.height);
  const encode = async (random: RandomSource) => {
    const eps = options.reference === 'sample' ? (count: number) => random.normal(count, { kind: 'posterior-sample' }) : undefined;
    const ref = await encodeReference(context.graphs, context.config, source.pixels, [1, 3, source.height, source.width], eps, signal, context.stripEncoder);
    return ref.latent;
  };
  return { image, sized: source.sized, width: source.width, height: source.height, encode };
}

/**
 * Shared body of every generate and edit on the SD3 sampler: encode (the family's text side, then
 * the reference latent), denoise with CFG `[negative, positive]` (with events), VAE-decode.
 */
export async function sampleImages(
  context: DiffusionContext,
  controller: RunController<DiffusionRunEvent>,
  options: SampleOptions,
  size: { readonly width: number; readonly height: number },
  encodePrompts: EncodePrompts,
  reference: ((random: RandomSource) => Promise<Float32Array>) | undefined,
): Promise<DiffusionResult> {
  const started = Date.now();
  const { graphs, config } = context;
  const { signal } = controller;
  const seed = options.seed ?? randomSeed();
  const random = options.random ?? new SeededRandom(seed);
  const guided = options.guidance > 1;
  const prompts = await encodePrompts(guided ? [options.negativePrompt, options.prompt] : [options.prompt]);
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
        const { images } = await decodeLatent(graphs, config, clean, dims, signal, context.stripDecoder);
        controller.emit({ type: 'image-preview', step, images });
      }
      controller.emit({ type: 'step-finish', step, steps, elapsedMs: Date.now() - started });
    },
  });
  const decodeStarted = Date.now();
  const { images } = await decodeLatent(graphs, config, latent, dims, signal, context.stripDecoder);
  const timings = { encodeMs, samplingMs: decodeStarted - samplingStarted, decodeMs: Date.now() - decodeStarted, totalMs: Date.now() - started };
  controller.emit({ type: 'finish', timings });
  return { images, seed, width: size.width, height: size.height, latent: { dims, data: latent }, timings };
}
