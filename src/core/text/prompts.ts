import { InvalidInputError } from '../../errors/index.js';
import { pythonStrip } from './python-strip.js';
import { IM_END, IM_START, IMAGE_TOKEN, type SpecialTokenIds } from './special-tokens.js';

/** What the prompt builders need from a tokenizer (`TextTokenizer` satisfies it). */
export interface PromptTokenizer {
  encode(text: string): number[];
  readonly specialIds: SpecialTokenIds;
}

/** One prompt as token ids, with the image placeholder run (if any) located. */
export interface PromptIds {
  /** Image slots hold the `<image>` id, as in the reference; their embeddings get replaced. */
  readonly ids: number[];
  /** Index of the first image slot, or -1 when the prompt has no image. */
  readonly imageStart: number;
  readonly imageLength: number;
}

/** A classifier-free-guidance pair: the conditional row and its unconditional partner. */
export interface PromptPair {
  readonly conditional: PromptIds;
  readonly unconditional: PromptIds;
}

// xtuner's Qwen INSTRUCTION template as the UniPic config defines it; its SYSTEM turn is never
// used (not even Qwen's default system prompt).
const USER_TURN = `${IM_START}user\n`;
const ASSISTANT_TURN = `${IM_END}\n${IM_START}assistant\n`;

export const TEXT_TO_IMAGE_PREFIX = 'Generate an image: ';
export const TEXT_TO_IMAGE_UNCONDITIONAL = 'Generate an image.';
export const EDIT_UNCONDITIONAL = 'Repeat this image.';
export const DEFAULT_QUESTION = 'Describe the image in detail.';

/** `INSTRUCTION.format(input=text)`. */
export function instructionText(input: string): string {
  return USER_TURN + input + ASSISTANT_TURN;
}

function rejectImageMarker(text: string, what: string): void {
  // The reference would expand (or embed) a typed `<image>` as an image slot with no image.
  if (text.includes(IMAGE_TOKEN)) {
    throw new InvalidInputError(`${what} must not contain the text ${IMAGE_TOKEN}`, { details: { what } });
  }
}

function requireImageLength(imageLength: number): void {
  if (!Number.isInteger(imageLength) || imageLength <= 0) {
    throw new InvalidInputError(`image placeholder length must be a positive integer, got ${imageLength}`);
  }
}

function textPrompt(tokenizer: PromptTokenizer, input: string): PromptIds {
  return { ids: tokenizer.encode(instructionText(input)), imageStart: -1, imageLength: 0 };
}

/**
 * `INSTRUCTION.format(input="<image>" + textAfterImage)` with `<image>` expanded to
 * `imageLength` slots. `<image>` is an added token, so Hugging Face encodes the text on each side
 * of it independently; encoding the two sides here gives the same ids without tokenizing slots.
 */
function imagePrompt(tokenizer: PromptTokenizer, textAfterImage: string, imageLength: number): PromptIds {
  requireImageLength(imageLength);
  const before = tokenizer.encode(USER_TURN);
  const after = tokenizer.encode(textAfterImage + ASSISTANT_TURN);
  const slots = new Array<number>(imageLength).fill(tokenizer.specialIds.image);
  return { ids: [...before, ...slots, ...after], imageStart: before.length, imageLength };
}

/**
 * Text-to-image prompts as `scripts/text2image.py` builds them: `"Generate an image: " + prompt`
 * with the prompt untouched (no strip, no added period), and the CFG prompt used verbatim.
 */
export function textToImagePrompts(tokenizer: PromptTokenizer, prompt: string, options: { unconditionalPrompt?: string } = {}): PromptPair {
  const unconditional = options.unconditionalPrompt ?? TEXT_TO_IMAGE_UNCONDITIONAL;
  rejectImageMarker(prompt, 'prompt');
  rejectImageMarker(unconditional, 'unconditional prompt');
  return {
    conditional: textPrompt(tokenizer, TEXT_TO_IMAGE_PREFIX + prompt),
    unconditional: textPrompt(tokenizer, unconditional),
  };
}

/**
 * Edit prompts as `scripts/image_edit.py` builds them: the source image inside the user turn,
 * then `"\n" + instruction.strip()` (Python's strip); the CFG prompt is stripped the same way.
 */
export function editPrompts(tokenizer: PromptTokenizer, instruction: string, imageLength: number, options: { unconditionalPrompt?: string } = {}): PromptPair {
  const unconditional = options.unconditionalPrompt ?? EDIT_UNCONDITIONAL;
  rejectImageMarker(instruction, 'instruction');
  rejectImageMarker(unconditional, 'unconditional prompt');
  return {
    conditional: imagePrompt(tokenizer, `\n${pythonStrip(instruction)}`, imageLength),
    unconditional: imagePrompt(tokenizer, `\n${pythonStrip(unconditional)}`, imageLength),
  };
}

/** Understanding prompt as `scripts/image2text.py` builds it: `"<image>\n" + question`, no strip. */
export function understandingPrompt(tokenizer: PromptTokenizer, question: string, imageLength: number): PromptIds {
  rejectImageMarker(question, 'question');
  return imagePrompt(tokenizer, `\n${question}`, imageLength);
}
