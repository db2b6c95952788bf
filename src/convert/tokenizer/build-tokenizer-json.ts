import { InvalidModelError } from '../../errors/index.js';
import type { AddedTokenJson, TokenizerConfigJson, TokenizerJson } from '../../core/text/tokenizer-json.js';
import { withImageToken } from './image-token.js';

/**
 * Qwen2's pre-tokenizer split (the `PRETOKENIZE_REGEX` of `Qwen2Tokenizer`, Oniguruma syntax). It
 * differs from GPT-2's in matching digits one at a time and in keeping newlines apart from words.
 */
export const QWEN2_SPLIT_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// The ByteLevel flags below only change offsets, never ids; they match Qwen's shipped file.
const BYTE_LEVEL = { add_prefix_space: false, trim_offsets: false, use_regex: false } as const;

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidModelError(`${file} is not valid JSON`, { cause, details: { file } });
  }
}

function parseVocabulary(text: string): Record<string, number> {
  const value = parseJson(text, 'vocab.json');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidModelError('vocab.json must be an object of token → id', { details: { file: 'vocab.json' } });
  }
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new InvalidModelError(`vocab.json maps ${JSON.stringify(token)} to ${String(id)}, not an id`, {
        details: { file: 'vocab.json', token },
      });
    }
    const previous = seen.get(id as number);
    if (previous !== undefined) {
      throw new InvalidModelError(`vocab.json gives id ${String(id)} to both ${JSON.stringify(previous)} and ${JSON.stringify(token)}`, {
        details: { file: 'vocab.json', id },
      });
    }
    seen.set(id as number, token);
  }
  return value as Record<string, number>;
}

/**
 * Reads merges.txt the way `Qwen2Tokenizer` does: an optional `#version` first line, blank lines
 * skipped, each other line exactly two space-separated symbols in rank order.
 */
function parseMerges(text: string, vocabulary: Record<string, number>): Array<[string, string]> {
  const merges: Array<[string, string]> = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '');
    if (line.trim() === '' || (index === 0 && line.startsWith('#version'))) continue;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new InvalidModelError(`merges.txt line ${index + 1} is not two symbols: ${JSON.stringify(line)}`, {
        details: { file: 'merges.txt', line: index + 1 },
      });
    }
    const [left, right] = parts as [string, string];
    for (const symbol of [left, right, left + right]) {
      if (!Object.hasOwn(vocabulary, symbol)) {
        throw new InvalidModelError(`merges.txt line ${index + 1} uses ${JSON.stringify(symbol)}, which vocab.json lacks`, {
          details: { file: 'merges.txt', line: index + 1, symbol },
        });
      }
    }
    merges.push([left, right]);
  }
  return merges;
}

function addedTokensFromConfig(config: TokenizerConfigJson): AddedTokenJson[] {
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || typeof decoder !== 'object') {
    throw new InvalidModelError('tokenizer_config.json has no added_tokens_decoder', {
      details: { file: 'tokenizer_config.json' },
    });
  }
  const tokens = Object.entries(decoder).map(([key, entry]): AddedTokenJson => {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || typeof entry?.content !== 'string') {
      throw new InvalidModelError(`tokenizer_config.json added token ${JSON.stringify(key)} is malformed`, {
        details: { file: 'tokenizer_config.json', key },
      });
    }
    return {
      id,
      content: entry.content,
      single_word: entry.single_word ?? false,
      lstrip: entry.lstrip ?? false,
      rstrip: entry.rstrip ?? false,
      normalized: entry.normalized ?? false,
      special: entry.special ?? false,
    };
  });
  return tokens.sort((a, b) => a.id - b.id);
}

/**
 * Builds a Hugging Face `tokenizer.json` for a Qwen2 byte-level BPE tokenizer from the slow
 * tokenizer's files, plus the `<image>` placeholder the UniPic scripts register at run time.
 * The result matches what `Qwen2TokenizerFast` converts from the same files (ids, splitting,
 * decoding); test/core/text checks it against Hugging Face on a corpus.
 */
export function buildTokenizerJson(vocabJsonText: string, mergesText: string, tokenizerConfigText: string): TokenizerJson {
  const vocabulary = parseVocabulary(vocabJsonText);
  const merges = parseMerges(mergesText, vocabulary);
  const config = parseJson(tokenizerConfigText, 'tokenizer_config.json') as TokenizerConfigJson;
  const addedTokens = addedTokensFromConfig(config);
  for (const token of addedTokens) {
    const clash = vocabulary[token.content];
    if (clash !== undefined && clash !== token.id) {
      throw new InvalidModelError(`added token ${JSON.stringify(token.content)} has id ${token.id} but vocab.json says ${clash}`, {
        details: { file: 'tokenizer_config.json', token: token.content },
      });
    }
  }
  const tokenizer: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', ...BYTE_LEVEL },
      ],
    },
    post_processor: { type: 'ByteLevel', ...BYTE_LEVEL },
    decoder: { type: 'ByteLevel', ...BYTE_LEVEL },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: vocabulary,
      merges,
    },
  };
  return withImageToken(tokenizer);
}
