export { buildTokenizerJson, QWEN2_SPLIT_PATTERN } from './build-tokenizer-json.js';
export { withImageToken, tokenizerConfigWithImageToken } from './image-token.js';
export {
  prepareTokenizerFiles,
  writeTokenizerFiles,
  TOKENIZER_JSON_FILE,
  TOKENIZER_CONFIG_FILE,
  type TokenizerFiles,
} from './tokenizer-files.js';
