import { tablesForCall } from './position-tables.js';
import { loadImage } from '../../../core/image/load-image.js';
import { preprocessForEdit, toModelTensor } from '../../../core/image/model-tensor.js';
import type { UniPic1Context as CallContext } from '../call-context.js';
import type { ParsedEditOptions } from '../options/edit-options.js';
import type { RunController } from '../../../core/run/run.js';
import { padPromptBatch } from '../../../core/text/prompt-batch.js';
import { editPrompts } from '../../../core/text/prompts.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import type { ImageRunEvent } from '../../../core/generation/events.js';
import { guidanceRows, runImageLoop, unchangedSource } from './generate.js';
import type { ImageResult } from './image-result.js';
import { planRegion, type RegionPlan } from './region-call.js';
import { encodeSourceImage } from './source-image.js';
import { checkContextWindow } from '../model/context-window.js';

/**
 * Image + instruction → image: the generate loop with the source image in the LLM
 * prefix (its visual tokens at the `<image>` slots of every row) and its MAR features, through
 * `decoder_embed`, filling the decoder's masked slots instead of the mask token.
 */
export async function editImage(context: CallContext, controller: RunController<ImageRunEvent>, options: ParsedEditOptions): Promise<ImageResult> {
  const started = Date.now();
  const { assets, config, graphs, signal } = context;
  const size = options.size ?? assets.defaultSize;
  const tables = await tablesForCall(context, size);
  const { bufferSize: F, encoderWidth: We } = config.mar;
  const slots = F + tables.grid * tables.grid;
  // Prompts first: a prompt that cannot fit the context fails before the image is encoded.
  const tokenizer = await assets.tokenizer();
  const pair = editPrompts(tokenizer, options.prompt, slots, { unconditionalPrompt: options.negativePrompt });
  const rows = guidanceRows(pair.conditional, pair.unconditional, options.numImages, options.guidance);
  const batch = padPromptBatch(rows, tokenizer.specialIds.imEnd);
  checkContextWindow(config, batch.length + slots, 'the instruction with the image and the image block');

  let pixels: Float32Array;
  let plan: RegionPlan | undefined;
  if (options.mask !== undefined || options.outpaint !== undefined) {
    // Region editing: the same preprocessing for image and mask (an outpaint canvas is the source).
    plan = await planRegion(context, options, size, tables.grid);
    if (plan.layout.maskedCount === 0) return unchangedSource(context, controller, options, plan, size, started);
    pixels = toModelTensor(plan.layout.source, size);
  } else {
    const image = await loadImage(options.image, { signal });
    if (image.width !== image.height) {
      const side = Math.min(image.width, image.height);
      context.warn('image-cropped', `the ${image.width}×${image.height} source was center-cropped to ${side}×${side} before editing, as the official pipeline does`);
    }
    pixels = preprocessForEdit(image, size);
  }
  const source = await encodeSourceImage(graphs, config, tables, pixels, signal, assets.manifest.stripEncoder);
  const embedded = await graphs.run('decoder_embed', { x_con: float32([1, slots, We], source.features) }, { signal });
  const fill = (await takeFloat32(embedded.fill)).data;
  // Both prompts put the image right after `<|im_start|>user\n`, so every row shares one slot range.
  const start = pair.conditional.imageStart;
  return runImageLoop(context, controller, options, {
    size,
    prefix: { ids: batch.ids, mask: batch.attentionMask, image: { start, embeds: source.visualTokens, length: source.length } },
    fill,
    started,
    prefixStarted: started,
    ...(plan ? { region: { known: { mask: plan.layout.tokens, latents: source.latents }, plan } } : {}),
  });
}
