/** The parts of a Hugging Face `tokenizer.json` this SDK writes and reads (tokenizers ≥ 0.14 layout). */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface BytePairModelJson {
  type: 'BPE';
  dropout: null;
  unk_token: string | null;
  continuing_subword_prefix: string | null;
  end_of_word_suffix: string | null;
  fuse_unk: boolean;
  byte_fallback: boolean;
  ignore_merges: boolean;
  vocab: Record<string, number>;
  /** Newer files store pairs; older ones (like Qwen's shipped file) store `"a b"` strings. */
  merges: Array<[string, string]> | string[];
}

export interface TokenizerJson {
  version: string;
  truncation: unknown;
  padding: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: BytePairModelJson;
}

/** One entry of `tokenizer_config.json`'s `added_tokens_decoder`. */
export interface AddedTokenConfigEntry {
  content: string;
  lstrip: boolean;
  normalized: boolean;
  rstrip: boolean;
  single_word: boolean;
  special: boolean;
}

export interface TokenizerConfigJson {
  added_tokens_decoder?: Record<string, AddedTokenConfigEntry>;
  additional_special_tokens?: string[];
  clean_up_tokenization_spaces?: boolean;
  eos_token?: string | null;
  pad_token?: string | null;
  [key: string]: unknown;
}
