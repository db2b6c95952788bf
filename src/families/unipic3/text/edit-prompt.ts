import { InvalidModelError } from '../../../errors/invalid-model-error.js';

/** The system message of the official UniPic-3 pipeline (`qwen_image_edit/pipeline_qwenimage_edit.py` L226). */
export const UNIPIC3_SYSTEM_PROMPT =
  "Describe the key features of the input image (color, shape, size, texture, objects, background), then explain how the user's text instruction should alter or modify the image. Generate a new image that meets the user's requirements while maintaining consistency with the original input where appropriate.";

/**
 * Tokens the pipeline drops from the text encoder's output (`prompt_template_encode_start_idx`
 * = 64): the 61-token system block and `<|im_start|>user\n`. A fixed count in the official
 * code, so the runtime checks that the kept text starts at the first `<|vision_start|>` instead of
 * searching for it.
 */
export const DROPPED_PREFIX_TOKENS = 64;

/** The negative prompt the official scripts use with the same images (`qwen_image_edit/inference.py`). */
export const UNCONDITIONAL_PROMPT = ' ';

const VISION_START = '<|vision_start|>';
const VISION_END = '<|vision_end|>';
const IMAGE_PAD = '<|image_pad|>';

/**
 * The chat template as `processor.apply_chat_template(add_generation_prompt=True)` renders the
 * official messages: the system turn, then one user turn with every image (no "Picture k:" labels)
 * followed by the instruction. `imageTokens[k]` is image k's merged vision-token count: each
 * `<|image_pad|>` is expanded as the processor does.
 */
export function unipic3Prompt(instruction: string, imageTokens: readonly number[]): string {
  const images = imageTokens.map((count) => `${VISION_START}${IMAGE_PAD.repeat(count)}${VISION_END}`).join('');
  return `<|im_start|>system\n${UNIPIC3_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n${images}${instruction}<|im_end|>\n<|im_start|>assistant\n`;
}

/**
 * Refuses a tokenizer under which the fixed 64-token drop would not end exactly before the first
 * image (the official code would then feed the transformer a shifted prompt; unipic will not guess).
 */
export function checkDroppedPrefix(ids: readonly number[], visionStartId: number): void {
  if (ids[DROPPED_PREFIX_TOKENS] !== visionStartId) {
    throw new InvalidModelError(
      `the UniPic-3 prompt's system block is not ${DROPPED_PREFIX_TOKENS} tokens under this tokenizer (token ${DROPPED_PREFIX_TOKENS} is ${ids[DROPPED_PREFIX_TOKENS]}, expected <|vision_start|> ${visionStartId})`,
    );
  }
}
