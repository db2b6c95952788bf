import { tablesForCall } from './position-tables.js';
import { padPromptBatch } from '../../../core/text/prompt-batch.js';
import { textToImagePrompts } from '../../../core/text/prompts.js';
import { respacedCosineTables } from '../diffusion/schedule.js';
import type { UniPic1Context as CallContext } from '../call-context.js';
import type { RunController } from '../../../core/run/run.js';
import type { ParsedGenerateOptions } from '../options/generate-options.js';
import { randomSeed, SeededRandom } from '../../../core/random/random-source.js';
import { decodeLatents, type GeneratedImage } from './decode-images.js';
import type { ImageRunEvent, ImageTimings } from '../../../core/generation/events.js';
import { runMarLoop } from './mar-loop.js';
import { buildPrefix, type PrefixInput } from './prefix.js';
import { checkContextWindow } from '../model/context-window.js';
import { toModelTensor } from '../../../core/image/model-tensor.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import type { KnownRegion } from './known-region.js';
import { planRegion, type RegionPlan } from './region-call.js';
import { encodeLatents } from './source-image.js';
import type { ImageResult } from './image-result.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';

/** Rows of a guidance batch: G conditional rows, then G unconditional ones (the official batch order for classifier-free guidance). */
export function guidanceRows<T>(conditional: T, unconditional: T, images: number, guidance: number): T[] {
  const rows = new Array<T>(images).fill(conditional);
  return guidance === 1 ? rows : [...rows, ...new Array<T>(images).fill(unconditional)];
}

export async function runImageLoop(
  context: CallContext,
  controller: RunController<ImageRunEvent>,
  options: Pick<ParsedGenerateOptions, 'steps' | 'guidance' | 'guidanceSchedule' | 'temperature' | 'diffusionSteps' | 'numImages' | 'seed' | 'preview' | 'random'>,
  input: {
    size: number;
    prefix: PrefixInput;
    fill: Float32Array;
    started: number;
    prefixStarted: number;
    /** Region editing: the known tokens, and how decoded images become outputs (composite, crop). */
    region?: { known: KnownRegion; plan: RegionPlan };
  },
): Promise<ImageResult> {
  const { graphs, config, assets, signal } = context;
  const seed = options.random ? undefined : (options.seed ?? randomSeed());
  const random = options.random ?? new SeededRandom(seed as number);
  const tables = await assets.positionTables(input.size);
  // The prefix, then the image block (F buffers + N tokens) at the end of the loop.
  checkContextWindow(config, input.prefix.ids[0].length + config.mar.bufferSize + tables.grid * tables.grid, 'the prompt with the image block');
  const diffusion = respacedCosineTables({
    numTimesteps: config.diffusion.numTimesteps,
    steps: options.diffusionSteps,
    maxBeta: config.diffusion.maxBeta,
  });
  const prefix = await buildPrefix(graphs, config, input.prefix, assets.manifest, signal);
  const samplingStarted = Date.now();
  let tokens: Float32Array;
  try {
    tokens = await runMarLoop({
      graphs,
      config,
      tables,
      diffusion,
      fill: input.fill,
      prefix,
      images: options.numImages,
      iterations: options.steps,
      guidance: options.guidance,
      guidanceSchedule: options.guidanceSchedule,
      temperature: options.temperature,
      random,
      ...(input.region ? { region: input.region.known } : {}),
      signal,
      onStepStart: (info) =>
        controller.emit({ type: 'step-start', iteration: info.iteration, iterations: info.iterations, known: info.known, predicting: info.predicted }),
      onStepFinish: async (info, current) => {
        controller.emit({
          type: 'step-finish',
          iteration: info.iteration,
          iterations: info.iterations,
          known: info.known + info.predicted,
          predicted: info.predicted,
          elapsedMs: Date.now() - input.started,
        });
        const every = options.preview;
        if (every && (info.iteration + 1) % every === 0 && info.iteration + 1 < info.iterations) {
          const decoded = await decodeLatents(graphs, config, current, options.numImages, tables.grid, signal, assets.manifest.stripDecoder);
          const images = input.region ? input.region.plan.finish(decoded) : decoded;
          controller.emit({ type: 'image-preview', iteration: info.iteration, images });
        }
      },
    });
  } finally {
    prefix.dispose();
  }
  const decodeStarted = Date.now();
  const decoded = await decodeLatents(graphs, config, tokens, options.numImages, tables.grid, signal, assets.manifest.stripDecoder);
  const images = input.region ? input.region.plan.finish(decoded) : decoded;
  const done = Date.now();
  const timings: ImageTimings = {
    prefixMs: samplingStarted - input.prefixStarted,
    samplingMs: decodeStarted - samplingStarted,
    decodeMs: done - decodeStarted,
    totalMs: done - input.started,
  };
  controller.emit({ type: 'finish', timings });
  return { images, ...(seed === undefined ? {} : { seed }), timings, warnings: [...context.warnings] };
}

/** Text → image: the guidance prompt pair, the prefix cache, the MAR loop, the VAE decode. */
export async function generateImages(context: CallContext, controller: RunController<ImageRunEvent>, options: ParsedGenerateOptions): Promise<ImageResult> {
  const started = Date.now();
  const { assets, config } = context;
  const size = options.size ?? assets.defaultSize;
  const tokenizer = await assets.tokenizer();
  const pair = textToImagePrompts(tokenizer, options.prompt, { unconditionalPrompt: options.negativePrompt });
  const batch = padPromptBatch(guidanceRows(pair.conditional, pair.unconditional, options.numImages, options.guidance), tokenizer.specialIds.imEnd);
  const maskToken = await assets.mask();
  const { bufferSize: F, decoderWidth: W } = config.mar;
  const tables = await tablesForCall(context, size);
  const slots = F + tables.grid * tables.grid;
  let region: { known: KnownRegion; plan: RegionPlan } | undefined;
  if (options.image !== undefined) {
    if (!context.graphs.has('vae_encoder')) {
      throw new InvalidOptionsError(
        "generate() with an image needs the vae_encoder graph, which this model did not load: load it with capabilities ['generate', 'edit']",
        {
          details: { issues: [{ path: 'image', message: 'the model was loaded without vae_encoder' }] },
        },
      );
    }
    const plan = await planRegion(context, { ...options, image: options.image }, size, tables.grid);
    if (plan.layout.maskedCount === 0) return unchangedSource(context, controller, options, plan, size, started);
    const latents = await encodeLatents(context.graphs, size, toModelTensor(plan.layout.source, size), context.signal, assets.manifest.stripEncoder);
    region = { known: { mask: plan.layout.tokens, latents }, plan };
  }
  const fill = new Float32Array(slots * W);
  for (let i = 0; i < slots; i++) fill.set(maskToken, i * W);
  return runImageLoop(context, controller, options, {
    size,
    prefix: { ids: batch.ids, mask: batch.attentionMask },
    fill,
    started,
    prefixStarted: started,
    ...(region ? { region } : {}),
  });
}

/**
 * A region with nothing to regenerate: no MAR graph runs. Composited, the output is the source
 * itself; with `composite: false` it is what the loop would give, the VAE round trip of the source.
 */
export async function unchangedSource(
  context: CallContext,
  controller: RunController<ImageRunEvent>,
  options: Pick<ParsedGenerateOptions, 'numImages' | 'seed' | 'random' | 'composite'>,
  plan: RegionPlan,
  size: number,
  started: number,
): Promise<ImageResult> {
  const seed = options.random ? undefined : (options.seed ?? randomSeed());
  const decodeStarted = Date.now();
  let images: GeneratedImage[];
  if (options.composite) {
    images = Array.from({ length: options.numImages }, () => plan.sourceImage());
  } else {
    const latents = await encodeLatents(
      context.graphs,
      size,
      toModelTensor(plan.layout.source, size),
      context.signal,
      (context.assets as { manifest?: { stripEncoder?: StripEncoderPlan } }).manifest?.stripEncoder,
    );
    const grid = Math.round(Math.sqrt(plan.layout.tokens.length));
    const tokens = new Float32Array(latents.length * options.numImages);
    for (let g = 0; g < options.numImages; g++) tokens.set(latents, g * latents.length);
    images = plan.finish(
      await decodeLatents(
        context.graphs,
        context.config,
        tokens,
        options.numImages,
        grid,
        context.signal,
        (context.assets as { manifest?: { stripDecoder?: StripDecoderPlan } }).manifest?.stripDecoder,
      ),
    );
  }
  const done = Date.now();
  const timings: ImageTimings = { prefixMs: decodeStarted - started, samplingMs: 0, decodeMs: done - decodeStarted, totalMs: done - started };
  controller.emit({ type: 'finish', timings });
  return { images, ...(seed === undefined ? {} : { seed }), timings, warnings: [...context.warnings] };
}
