export * from './special-tokens.js';
export type * from './tokenizer-json.js';
export { TextTokenizer, decodeTokenBytes, type DecodeOptions, type TokenByteSource } from './tokenizer.js';
export {
  textToImagePrompts,
  editPrompts,
  understandingPrompt,
  instructionText,
  TEXT_TO_IMAGE_PREFIX,
  TEXT_TO_IMAGE_UNCONDITIONAL,
  EDIT_UNCONDITIONAL,
  DEFAULT_QUESTION,
  type PromptIds,
  type PromptPair,
  type PromptTokenizer,
} from './prompts.js';
export { padPromptBatch, type PaddedPromptBatch } from './prompt-batch.js';
export { pythonStrip } from './python-strip.js';
export { TextStream, type TextStreamOptions, type TextStreamUpdate } from './text-stream.js';
export {
  textSamplingShape,
  textSamplingOverridesShape,
  resolveTextSampling,
  type ModelGenerationDefaults,
  textSamplingSchema,
  DEFAULT_TEXT_SAMPLING,
  type TextSamplingInput,
  type TextSamplingOptions,
} from './sampling-options.js';
export { argmax, processLogits, sampleFromScores, selectToken, TokenSelector, type UniformRandom } from './sampling.js';
export { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from './logits-processors.js';
