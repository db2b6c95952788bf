import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidModelError } from '../../errors/index.js';
import { byteLevelTextToBytes } from './byte-level-alphabet.js';
import { END_OF_TEXT, IM_END, IM_START, IMAGE_TOKEN, type SpecialTokenIds } from './special-tokens.js';
import type { TokenizerConfigJson, TokenizerJson } from './tokenizer-json.js';

export interface DecodeOptions {
  /** Drop special added tokens (`<|im_end|>`, `<image>`...) from the text; Hugging Face's default is false. */
  readonly skipSpecialTokens?: boolean;
}

/** What the streaming detokenizer needs from a tokenizer. */
export interface TokenByteSource {
  /** Bytes a token contributes to decoded text, or `undefined` for ids the tokenizer does not know. */
  tokenBytes(id: number): Uint8Array | undefined;
  isSpecial(id: number): boolean;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

function requireObject(value: unknown, file: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidModelError(`${file} must be a JSON object`, { details: { file } });
  }
  return value as Record<string, unknown>;
}

/** Concatenates token bytes and decodes them once, replacing invalid UTF-8 like Rust's `from_utf8_lossy`. */
export function decodeTokenBytes(source: TokenByteSource, ids: readonly number[], skipSpecialTokens: boolean): string {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (const id of ids) {
    if (skipSpecialTokens && source.isSpecial(id)) continue;
    const bytes = source.tokenBytes(id);
    if (bytes === undefined) continue;
    parts.push(bytes);
    length += bytes.length;
  }
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  // ignoreBOM keeps a leading U+FEFF, as the Rust decoder does.
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(joined);
}

/**
 * The Qwen2.5 tokenizer of a converted model. Encoding goes through `@huggingface/tokenizers`
 * (same ids as Hugging Face's Rust tokenizer on the fixture corpus); decoding is done here from the
 * byte-level vocabulary, the way the Rust `ByteLevel` decoder does it, so that the streaming
 * detokenizer and `decode` share one definition.
 */
export class TextTokenizer implements TokenByteSource {
  readonly specialIds: SpecialTokenIds;
  /** Highest known id + 1; larger ids (the embedding has spare rows) decode to nothing. */
  readonly size: number;
  private readonly tokenizer: Tokenizer;
  private readonly specialFlags: Set<number>;
  private readonly byteCache: Array<Uint8Array | undefined>;

  private constructor(tokenizer: Tokenizer) {
    this.tokenizer = tokenizer;
    this.specialFlags = new Set();
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) {
      if (token.special) this.specialFlags.add(id);
    }
    let highest = -1;
    for (const id of tokenizer.get_vocab(true).values()) highest = Math.max(highest, id);
    this.size = highest + 1;
    this.byteCache = new Array(this.size);
    this.specialIds = {
      endOfText: this.requireSpecial(END_OF_TEXT),
      imStart: this.requireSpecial(IM_START),
      imEnd: this.requireSpecial(IM_END),
      image: this.requireSpecial(IMAGE_TOKEN),
    };
  }

  /** Builds the tokenizer from parsed `tokenizer.json` and `tokenizer_config.json`. */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown): TextTokenizer {
    const json = requireObject(tokenizerJson, 'tokenizer.json') as unknown as TokenizerJson;
    const config = requireObject(tokenizerConfig, 'tokenizer_config.json') as TokenizerConfigJson;
    if (json.model?.type !== 'BPE' || (json.decoder as { type?: unknown } | null)?.type !== 'ByteLevel') {
      throw new InvalidModelError('tokenizer.json must be a byte-level BPE tokenizer (Qwen2)', {
        details: { file: 'tokenizer.json' },
      });
    }
    // Hugging Face would also rewrite " ." → "." etc. after decoding; Qwen turns that off and the
    // streaming detokenizer cannot undo it incrementally, so refuse rather than differ silently.
    if (config.clean_up_tokenization_spaces === true) {
      throw new InvalidModelError('tokenizer_config.json sets clean_up_tokenization_spaces, which unipic does not support', {
        details: { file: 'tokenizer_config.json' },
      });
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, { ...config, clean_up_tokenization_spaces: false });
    } catch (cause) {
      throw new InvalidModelError('tokenizer.json could not be loaded', { cause, details: { file: 'tokenizer.json' } });
    }
    return new TextTokenizer(tokenizer);
  }

  private requireSpecial(content: string): number {
    const id = this.tokenizer.token_to_id(content);
    if (id === undefined || !this.specialFlags.has(id)) {
      throw new InvalidModelError(`tokenizer.json has no special token ${content}`, {
        details: { file: 'tokenizer.json', token: content },
      });
    }
    return id;
  }

  /**
   * Token ids of `text` with Hugging Face semantics: added tokens written in the text (`<|im_end|>`,
   * `<image>`) are matched first, the pieces between them are NFC-normalised and BPE-encoded on
   * their own, and nothing (no BOS) is added.
   */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return decodeTokenBytes(this, ids, options.skipSpecialTokens ?? false);
  }

  isSpecial(id: number): boolean {
    return this.specialFlags.has(id);
  }

  tokenToId(content: string): number | undefined {
    return this.tokenizer.token_to_id(content);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.size ? this.tokenizer.id_to_token(id) : undefined;
  }

  tokenBytes(id: number): Uint8Array | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) return undefined;
    const cached = this.byteCache[id];
    if (cached !== undefined) return cached;
    const token = this.tokenizer.id_to_token(id);
    if (token === undefined) return undefined;
    // Rust's ByteLevel decoder maps every token (added ones too) through the byte alphabet and
    // falls back to the raw UTF-8 of a token with characters outside it.
    const bytes = token.length === 0 ? EMPTY : (byteLevelTextToBytes(token) ?? utf8.encode(token));
    this.byteCache[id] = bytes;
    return bytes;
  }
}
