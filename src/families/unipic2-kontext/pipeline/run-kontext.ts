import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import { checkSampleSize, editReference, sampleImages } from '../../../core/diffusion/sample-images.js';
import type { RunController } from '../../../core/run/run.js';
import type { KontextConfig, KontextGraphName } from '../kontext-config.js';
import { encodePrompts, type KontextTokenizers } from './encode-prompts.js';
import type { KontextResult, KontextRunEvent } from './kontext-events.js';
import type { KontextGraphRunner } from './kontext-graph-runner.js';
import type { ParsedKontextEditOptions, ParsedKontextGenerateOptions } from './kontext-options.js';

export interface KontextContext {
  readonly graphs: KontextGraphRunner;
  readonly config: KontextConfig;
  readonly tokenizers: KontextTokenizers;
  /** The strip decoder's plan when the model has it (decodes from 512 px). */
  readonly stripDecoder?: StripDecoderPlan;
  /** The strip encoder's plan when the model has it (encodes the edit image from 512 px). */
  readonly stripEncoder?: StripEncoderPlan;
  /** The call is done with these graphs (freed on a `lowMemory` model; see `CallContext.doneWith`). */
  readonly doneWith?: (graphs: readonly KontextGraphName[]) => Promise<void>;
}

/** Needed once per call, before sampling: a `lowMemory` model frees them after use. */
const TEXT_ENCODERS: readonly KontextGraphName[] = ['clip_l', 'clip_g', 't5_encoder'];

/** SD3's text side (CLIP-L, CLIP-G, T5 — or zeros without T5, with a warning). */
function promptEncoder(context: KontextContext, controller: RunController<KontextRunEvent>, options: ParsedKontextGenerateOptions | ParsedKontextEditOptions) {
  const useT5 = options.t5 && context.graphs.has('t5_encoder');
  return async (texts: readonly string[]) => {
    if (options.t5 && !useT5)
      controller.emit({ type: 'warning', code: 'no-t5', message: 'this model has no T5 encoder: running with zero T5 embeddings, which changes outputs' });
    // Freed whether encoding finished or was aborted: the next call creates them again either way.
    try {
      return await encodePrompts(context.graphs, context.tokenizers, context.config, texts, { useT5, signal: controller.signal });
    } finally {
      await context.doneWith?.(TEXT_ENCODERS);
    }
  };
}

/** Text → image as the official `unipic2_sd35m_kontext_t2i.py`. */
export function generateKontext(context: KontextContext, controller: RunController<KontextRunEvent>, options: ParsedKontextGenerateOptions): Promise<KontextResult> {
  checkSampleSize(context.config, options.width, options.height);
  return sampleImages(context, controller, options, { width: options.width, height: options.height }, promptEncoder(context, controller, options), undefined);
}

/** Image + instruction → image as the official `unipic2_sd35m_kontext_editing.py`. */
export async function editKontext(context: KontextContext, controller: RunController<KontextRunEvent>, options: ParsedKontextEditOptions): Promise<KontextResult> {
  const source = await editReference(context, options, controller.signal);
  const encodeReference = async (random: Parameters<typeof source.encode>[0]) => {
    try {
      return await source.encode(random);
    } finally {
      await context.doneWith?.(['vae_encoder', 'vae_encoder_strips']);
    }
  };
  return sampleImages(context, controller, options, source, promptEncoder(context, controller, options), encodeReference);
}
