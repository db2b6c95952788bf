import type { RgbImage } from '../../../core/image/rgb-image.js';
import type { TextTokenizer } from '../../../core/text/tokenizer.js';
import { editPrompt, expandImagePad, generatePrompt } from '../text/chat-templates.js';
import { editPixels, encodeImage } from './encode-image.js';
import type { MqGraphs, MqRuntimeConfig } from './mq-graphs.js';
import { encodeConditioning, type Conditioning } from './query-conditioning.js';

/** unipic2_mq_t2i.py's default negative prompt (it still gets the "Generate an image: " prefix). */
export const GENERATE_NEGATIVE_PROMPT = '';

/** unipic2_mq_editing.py's default negative prompt. */
export const EDIT_NEGATIVE_PROMPT =
  'blurry, low quality, low resolution, distorted, deformed, broken content, missing parts, damaged details, artifacts, glitch, noise, pixelated, grainy, compression artifacts, bad composition, wrong proportion, incomplete editing, unfinished, unedited areas.';

/** The Kontext sampler's text conditioning: `positive` for the prompt, `negative` for CFG's other row. */
export interface ConditioningPair {
  readonly positive: Conditioning;
  readonly negative: Conditioning;
}

export interface ConditioningModel {
  readonly graphs: MqGraphs;
  readonly config: MqRuntimeConfig;
  readonly tokenizer: TextTokenizer;
  /** `[Q, H]` from meta_queries.safetensors. */
  readonly metaQueries: Float32Array;
}

/** Text-to-image (`unipic2_mq_t2i.py`): "Generate an image: " + prompt, and the same for the negative prompt. */
export async function generateConditioning(
  model: ConditioningModel,
  prompt: string,
  negativePrompt = GENERATE_NEGATIVE_PROMPT,
  signal?: AbortSignal,
): Promise<ConditioningPair> {
  const row = (text: string) => encodeConditioning(model.graphs, model.config, model.tokenizer.encode(generatePrompt(text)), model.metaQueries, { signal });
  return { positive: await row(prompt), negative: await row(negativePrompt) };
}

/**
 * Editing (`unipic2_mq_editing.py`): `image` is the edit-size image (after the pipeline's fix_longer_edge, sides
 * multiples of 32); the VLM sees it at 7/8 (min = max pixels by the 28/32 rule), once for both rows.
 */
export async function editConditioning(
  model: ConditioningModel,
  image: RgbImage,
  instruction: string,
  negativePrompt = EDIT_NEGATIVE_PROMPT,
  signal?: AbortSignal,
): Promise<ConditioningPair> {
  const encoded = await encodeImage(model.graphs, model.config, image, editPixels(image.height, image.width), signal);
  const row = (text: string) =>
    encodeConditioning(model.graphs, model.config, model.tokenizer.encode(expandImagePad(editPrompt(text), encoded.tokens)), model.metaQueries, {
      imageEmbeds: encoded.embeds,
      signal,
    });
  return { positive: await row(instruction), negative: await row(negativePrompt) };
}
