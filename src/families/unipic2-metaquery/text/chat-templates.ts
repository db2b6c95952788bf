/**
 * The Qwen2.5-VL chat template as the UniPic-2 scripts render it: the default-system-prompt clause
 * removed (`chat_template.replace(...)` in unipic2_mq_t2i.py / _editing.py / _i2t.py), one user turn,
 * `add_vision_id` false, the generation prompt appended. The strings below are what that template
 * renders (checked against the oracle's renderings in test/fixtures/metaquery/golden.json).
 */
export const VISION_BLOCK = '<|vision_start|><|image_pad|><|vision_end|>';

/** Understanding: the image first, then the question (unipic2_mq_i2t.py message order). */
export function understandPrompt(question: string, withImage: boolean): string {
  return `<|im_start|>user\n${withImage ? VISION_BLOCK : ''}${question}<|im_end|>\n<|im_start|>assistant\n`;
}

/** Text-to-image: "Generate an image: " + prompt (the negative prompt gets the prefix too). */
export function generatePrompt(prompt: string): string {
  return `<|im_start|>user\nGenerate an image: ${prompt}<|im_end|>\n<|im_start|>assistant\n`;
}

/** Editing: the image, then the instruction, without the generation prefix. */
export function editPrompt(instruction: string): string {
  return `<|im_start|>user\n${VISION_BLOCK}${instruction}<|im_end|>\n<|im_start|>assistant\n`;
}

/** `<|image_pad|>` repeated once per merged vision token (gridH·gridW / merge²), as the processor expands it. */
export function expandImagePad(text: string, imageTokens: number): string {
  return text.replace('<|image_pad|>', '<|image_pad|>'.repeat(imageTokens));
}
