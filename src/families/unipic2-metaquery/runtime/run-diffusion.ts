import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import type { DiffusionGraphRunner } from '../../../core/diffusion/diffusion-graph-runner.js';
import type { DiffusionResult, DiffusionRunEvent } from '../../../core/diffusion/diffusion-events.js';
import type { PromptEmbeddings } from '../../../core/diffusion/prompt-embeddings.js';
import { checkSampleSize, editReference, sampleImages, type EncodePrompts } from '../../../core/diffusion/sample-images.js';
import type { Sd3DiffusionConfig } from '../../../core/diffusion/sd3-diffusion-config.js';
import type { RunController } from '../../../core/run/run.js';
import type { TextTokenizer } from '../../../core/text/tokenizer.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { editPrompt, expandImagePad, generatePrompt } from '../text/chat-templates.js';
import { editPixels, encodeImage } from './encode-image.js';
import type { MqGraphs, MqRuntimeConfig } from './mq-graphs.js';
import { type Conditioning, encodeConditioning } from './query-conditioning.js';
import type { ParsedMetaqueryEditOptions, ParsedMetaqueryGenerateOptions } from './sample-options.js';

/** What generate and edit need of a loaded Metaquery model. */
export interface MetaqueryDiffusionContext {
  /** The VLM-side graphs and the sampler's (`transformer`, `vae_encoder`, `vae_decoder`) by name. */
  readonly graphs: MqGraphs & DiffusionGraphRunner;
  readonly config: MqRuntimeConfig & Partial<Sd3DiffusionConfig>;
  readonly tokenizer: TextTokenizer;
  /** `[Q, H]` from meta_queries.safetensors. */
  readonly metaQueries: Float32Array;
  /** The call is done with these graphs (freed on a `lowMemory` model; see `CallContext.doneWith`). */
  readonly doneWith?: (graphs: readonly string[]) => Promise<void>;
  /** The strip VAE decoder (manifest `stripDecoder`) when the model has `vae_decoder_strips` loaded. */
  readonly stripDecoder?: StripDecoderPlan;
  /** The strip VAE encoder (manifest `stripEncoder`) when the model has `vae_encoder_strips` loaded. */
  readonly stripEncoder?: StripEncoderPlan;
}

/** The text side, needed once per call before sampling: a `lowMemory` model frees it (7B: most of the memory). */
const TEXT_SIDE = ['vision', 'embed', 'llm', 'conditioner'];

function samplerContext(context: MetaqueryDiffusionContext) {
  const { transformer, vae, scheduler } = context.config;
  if (!transformer || !vae || !scheduler) throw new InvalidModelError('this Metaquery model was converted without its transformer, VAE and scheduler');
  return {
    graphs: context.graphs,
    config: { transformer, vae, scheduler },
    ...(context.stripDecoder ? { stripDecoder: context.stripDecoder } : {}),
    ...(context.stripEncoder ? { stripEncoder: context.stripEncoder } : {}),
  };
}

/** The sampler's `[B, Q, joint]` / `[B, pooled]` batch from one conditioning per text, in order. */
function stackRows(rows: readonly Conditioning[], queries: number): PromptEmbeddings {
  const joint = rows[0].promptEmbeds.length / queries;
  const pooledWidth = rows[0].pooledPromptEmbeds.length;
  const embeds = new Float32Array(rows.length * queries * joint);
  const pooled = new Float32Array(rows.length * pooledWidth);
  rows.forEach((row, i) => {
    embeds.set(row.promptEmbeds, i * queries * joint);
    pooled.set(row.pooledPromptEmbeds, i * pooledWidth);
  });
  return { embeds, dims: [rows.length, queries, joint], pooled, pooledDims: [rows.length, pooledWidth] };
}

/** One VLM + conditioner pass per text (CFG rows run alone, unpadded — matches the official padded batch to ~2e-6). */
function promptEncoder(context: MetaqueryDiffusionContext, template: (text: string) => string, signal: AbortSignal, imageEmbeds?: Float32Array): EncodePrompts {
  return async (texts) => {
    // Freed whether encoding finished or was aborted: the next call creates them again either way.
    try {
      const rows: Conditioning[] = [];
      for (const text of texts) {
        const ids = context.tokenizer.encode(template(text));
        rows.push(await encodeConditioning(context.graphs, context.config, ids, context.metaQueries, { signal, ...(imageEmbeds ? { imageEmbeds } : {}) }));
      }
      return stackRows(rows, context.config.numQueries);
    } finally {
      await context.doneWith?.(TEXT_SIDE);
    }
  };
}

/** Text → image as the official unipic2_mq_t2i.py: "Generate an image: " + prompt, 256 query rows, the Kontext sampler. */
export function generateMetaquery(
  context: MetaqueryDiffusionContext,
  controller: RunController<DiffusionRunEvent>,
  options: ParsedMetaqueryGenerateOptions,
): Promise<DiffusionResult> {
  const sampler = samplerContext(context);
  checkSampleSize(sampler.config, options.width, options.height);
  const encode = promptEncoder(context, generatePrompt, controller.signal);
  return sampleImages(sampler, controller, options, { width: options.width, height: options.height }, encode, undefined);
}

/**
 * Image + instruction → image as the official unipic2_mq_editing.py: the source at its edit size
 * (fix_longer_edge) is the reference latent, and the VLM sees it at 7/8 of that size inside the
 * user turn, before the instruction (no generation prefix); one vision pass serves both CFG rows.
 */
export async function editMetaquery(
  context: MetaqueryDiffusionContext,
  controller: RunController<DiffusionRunEvent>,
  options: ParsedMetaqueryEditOptions,
): Promise<DiffusionResult> {
  const sampler = samplerContext(context);
  const { signal } = controller;
  const source = await editReference(sampler, options, signal);
  const image = await encodeImage(context.graphs, context.config, source.sized, editPixels(source.height, source.width), signal);
  const template = (text: string) => expandImagePad(editPrompt(text), image.tokens);
  const encodeReference = async (random: Parameters<typeof source.encode>[0]) => {
    try {
      return await source.encode(random);
    } finally {
      await context.doneWith?.(['vae_encoder', 'vae_encoder_strips']);
    }
  };
  return sampleImages(sampler, controller, options, source, promptEncoder(context, template, signal, image.embeds), encodeReference);
}
