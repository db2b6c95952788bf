/**
 * Qwen2.5 special tokens as the official UniPic scripts see them. The runtime resolves ids from the
 * loaded tokenizer by content (a converted model may differ); these constants are the expected
 * values for the converter and tests.
 */
export const END_OF_TEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
/** Registered at run time by the official scripts (`add_tokens(["<image>"], special_tokens=True)`). */
export const IMAGE_TOKEN = '<image>';

export const END_OF_TEXT_ID = 151643;
export const IM_START_ID = 151644;
export const IM_END_ID = 151645;
/** First id after Qwen2.5's 22 added tokens (151643–151664), so the embedding needs no resize. */
export const IMAGE_TOKEN_ID = 151665;

/** The ids of the chat-control tokens one loaded tokenizer uses. */
export interface SpecialTokenIds {
  readonly endOfText: number;
  readonly imStart: number;
  readonly imEnd: number;
  readonly image: number;
}
