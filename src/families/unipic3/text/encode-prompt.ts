import { throwIfAborted } from '../../../errors/abort-error.js';
import type { RgbImage } from '../../../core/image/rgb-image.js';
import { emptyPast } from '../../../core/kv-cache.js';
import { inverseFrequencies } from '../../../core/math/rotary-frequencies.js';
import { mropeAngles, mropePositions } from '../../../core/qwen-vl/mrope-positions.js';
import { pixelPatches } from '../../../core/qwen-vl/pixel-patches.js';
import { scatterImage } from '../../../core/qwen-vl/scatter-image.js';
import { visionFeeds } from '../../../core/qwen-vl/vision-feeds.js';
import type { VisionGeometry } from '../../../core/qwen-vl/vision-inputs.js';
import { float32, int64, takeFloat32 } from '../../../core/tensor.js';
import type { DeviceTensor, Feed } from '../../../spec/backend.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { checkDroppedPrefix, DROPPED_PREFIX_TOKENS, unipic3Prompt } from './edit-prompt.js';

/** The text encoder's graphs (Qwen2.5-VL: vision tower, token embedding, decoder). */
export interface TextEncoderGraphs {
  run(
    name: 'vision' | 'embed' | 'llm',
    feeds: Readonly<Record<string, Feed>>,
    options?: { signal?: AbortSignal; outputs?: readonly string[] },
  ): Promise<Record<string, DeviceTensor>>;
}

/** The Qwen2.5-VL numbers the prompt side needs (manifest `config.textEncoder`). */
export interface TextEncoderConfig {
  readonly llm: LlmConfig;
  readonly mropeSection: readonly number[];
  readonly vision: VisionGeometry;
  readonly imageTokenId: number;
  readonly visionStartTokenId: number;
}

/** One input image through the vision tower: `[tokens, hidden]` merged rows and its patch grid. */
export interface VisionImage {
  readonly embeds: Float32Array;
  readonly tokens: number;
  readonly gridH: number;
  readonly gridW: number;
}

/**
 * The vision tower on each image's VL copy (already at `round(w·28/32) × round(h·28/32)`, a multiple
 * of 28, so the processor resizes nothing: `do_resize=False` in the official pipeline). Run once and
 * shared by the conditional and the `" "` prompt, which see the same images.
 */
export async function encodeVisionImages(
  graphs: TextEncoderGraphs,
  config: TextEncoderConfig,
  images: readonly RgbImage[],
  signal?: AbortSignal,
): Promise<VisionImage[]> {
  const encoded: VisionImage[] = [];
  for (const image of images) {
    throwIfAborted(signal);
    const vision = visionFeeds(pixelPatches(image), config.vision);
    const out = await graphs.run('vision', vision.feeds, { signal, outputs: ['image_embeds'] });
    encoded.push({ embeds: (await takeFloat32(out.image_embeds)).data, tokens: vision.tokens, gridH: vision.gridH, gridW: vision.gridW });
  }
  return encoded;
}

/** What the prompt side produced: `[length, hidden]` embeddings after the drop, and the ids it ran on. */
export interface EncodedPrompt {
  readonly embeds: Float32Array;
  readonly length: number;
  readonly ids: readonly number[];
}

/**
 * `prompt_embeds` of the official pipeline (`qwen_image_edit/pipeline_qwenimage_edit.py`): the system-prompt template with every image
 * in the user turn, token embeddings with the images' rows scattered into their `<|image_pad|>`
 * slots, one causal pass with the full t/h/w M-RoPE positions (the pipeline passes input_ids), the
 * final-norm hidden state, and the first 64 tokens dropped.
 */
export async function encodeUnipic3Prompt(
  graphs: TextEncoderGraphs,
  config: TextEncoderConfig,
  encode: (text: string) => number[],
  instruction: string,
  images: readonly VisionImage[],
  signal?: AbortSignal,
): Promise<EncodedPrompt> {
  const ids = encode(
    unipic3Prompt(
      instruction,
      images.map((image) => image.tokens),
    ),
  );
  checkDroppedPrefix(ids, config.visionStartTokenId);
  const H = config.llm.hiddenSize;
  const embedded = await takeFloat32((await graphs.run('embed', { input_ids: int64([1, ids.length], ids) }, { signal })).inputs_embeds);
  const embeds = embedded.data;
  const all = new Float32Array(images.reduce((sum, image) => sum + image.embeds.length, 0));
  let offset = 0;
  for (const image of images) {
    all.set(image.embeds, offset);
    offset += image.embeds.length;
  }
  scatterImage(embeds, ids, config.imageTokenId, all, H);
  throwIfAborted(signal);

  const { positions } = mropePositions(ids, config.imageTokenId, images, config.vision.spatialMergeSize);
  const angles = mropeAngles(positions, config.mropeSection, inverseFrequencies(config.llm.headDim, config.llm.ropeTheta));
  const out = await graphs.run(
    'llm',
    {
      inputs_embeds: float32([1, ids.length, H], embeds),
      attention_mask: int64([1, ids.length], new Array<number>(ids.length).fill(1)),
      rotary_angles: float32([1, ids.length, config.llm.headDim / 2], angles),
      ...emptyPast(config),
    },
    { signal, outputs: ['last_hidden_state'] },
  );
  const hidden = (await takeFloat32(out.last_hidden_state)).data;
  return { embeds: hidden.slice(DROPPED_PREFIX_TOKENS * H), length: ids.length - DROPPED_PREFIX_TOKENS, ids };
}
