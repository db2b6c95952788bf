import { describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../../src/errors/index.js';
import { TextTokenizer } from '../../../src/core/text/tokenizer.js';
import { END_OF_TEXT_ID, IM_END_ID, IM_START_ID, IMAGE_TOKEN_ID } from '../../../src/core/text/special-tokens.js';
import { buildTokenizerJson } from '../../../src/convert/tokenizer/build-tokenizer-json.js';
import { qwenTokenizer, readAsset, readFixture, type CorpusEntry, type DecodeCase } from './support/qwen-tokenizer.js';

// Oracle: Hugging Face transformers 4.45.2 / tokenizers 0.20.3 (Qwen2TokenizerFast), written by
// tools/reference/tokenizer/generate.py. Ids and text must match exactly.
const corpus = readFixture<{ entries: CorpusEntry[] }>('corpus.json').entries;
const decodeCases = readFixture<{ cases: DecodeCase[] }>('decode-cases.json').cases;

describe('TextTokenizer against Hugging Face', () => {
  const tokenizer = qwenTokenizer();

  it('covers at least 200 strings, and the Python and Rust tokenizers agree on all of them', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(corpus.filter((entry) => entry.slowIds !== undefined).map((entry) => entry.text)).toEqual([]);
  });

  it('encodes every corpus string to the Hugging Face ids', () => {
    const mismatches = corpus
      .map((entry) => ({ text: entry.text, expected: entry.ids, actual: tokenizer.encode(entry.text) }))
      .filter((row) => JSON.stringify(row.actual) !== JSON.stringify(row.expected));
    expect(mismatches).toEqual([]);
  });

  it('decodes every corpus id list to the Hugging Face text, with and without special tokens', () => {
    for (const entry of corpus) {
      expect(tokenizer.decode(entry.ids), JSON.stringify(entry.text)).toBe(entry.decoded);
      expect(tokenizer.decode(entry.ids, { skipSpecialTokens: true }), JSON.stringify(entry.text)).toBe(entry.decodedSkipSpecial);
    }
  });

  it('round-trips text without added tokens to its NFC form', () => {
    for (const entry of corpus.filter((candidate) => !/<\|[a-z_]+\|>|<image>|<tool_call>|<\/tool_call>/.test(candidate.text))) {
      expect(tokenizer.decode(tokenizer.encode(entry.text)), JSON.stringify(entry.text)).toBe(entry.text.normalize('NFC'));
    }
  });

  it('decodes split characters, stray bytes and unknown ids like Hugging Face', () => {
    expect(decodeCases.length).toBeGreaterThan(50);
    for (const sample of decodeCases) {
      expect(tokenizer.decode(sample.ids), JSON.stringify(sample.ids)).toBe(sample.decoded);
      expect(tokenizer.decode(sample.ids, { skipSpecialTokens: true }), JSON.stringify(sample.ids)).toBe(sample.decodedSkipSpecial);
    }
  });

  it('resolves the chat and image ids from the file', () => {
    expect(tokenizer.specialIds).toEqual({
      endOfText: END_OF_TEXT_ID,
      imStart: IM_START_ID,
      imEnd: IM_END_ID,
      image: IMAGE_TOKEN_ID,
    });
    expect(tokenizer.size).toBe(IMAGE_TOKEN_ID + 1);
    expect(tokenizer.isSpecial(IM_END_ID)).toBe(true);
    // <tool_call> is an added token but not a special one in Qwen's config.
    expect(tokenizer.isSpecial(151657)).toBe(false);
    expect(tokenizer.idToToken(151665)).toBe('<image>');
    expect(tokenizer.tokenBytes(151666)).toBeUndefined();
    expect(tokenizer.encode('')).toEqual([]);
    expect(tokenizer.decode([])).toBe('');
  });

  it('reads the older "a b" merges format the same way', () => {
    const json = buildTokenizerJson(readAsset('vocab.json'), readAsset('merges.txt'), readAsset('tokenizer_config.json'));
    const stringMerges = { ...json, model: { ...json.model, merges: (json.model.merges as string[][]).map((pair) => pair.join(' ')) } };
    const legacy = TextTokenizer.fromJson(stringMerges, JSON.parse(readAsset('tokenizer_config.json')));
    for (const entry of corpus.slice(0, 60)) expect(legacy.encode(entry.text)).toEqual(entry.ids);
  });
});

describe('added tokens outside ASCII', () => {
  it('decode through the byte alphabet like the Rust ByteLevel decoder', () => {
    // Oracle (transformers 4.45.2, run by hand): add_tokens(['<é>', '<猫>']) on the Qwen files,
    // then decode(encode('a<é>b<猫>')) == 'a<\ufffd>b<猫>' — 'é' is the alphabet's stand-in for byte
    // 0xE9, while '猫' is outside the alphabet and keeps its UTF-8 bytes.
    const json = buildTokenizerJson(readAsset('vocab.json'), readAsset('merges.txt'), readAsset('tokenizer_config.json'));
    const extra = ['<é>', '<猫>'].map((content, index) => ({
      id: 151666 + index,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: false,
    }));
    const tokenizer = TextTokenizer.fromJson({ ...json, added_tokens: [...json.added_tokens, ...extra] }, JSON.parse(readAsset('tokenizer_config.json')));
    const ids = tokenizer.encode('a<é>b<猫>');
    expect(ids).toEqual([64, 151666, 65, 151667]);
    expect(tokenizer.decode(ids)).toBe('a<\ufffd>b<猫>');
  });
});

describe('TextTokenizer.fromJson rejects what it cannot serve', () => {
  const json = buildTokenizerJson(readAsset('vocab.json'), readAsset('merges.txt'), readAsset('tokenizer_config.json'));
  const config = JSON.parse(readAsset('tokenizer_config.json')) as Record<string, unknown>;

  it('a tokenizer without <image>', () => {
    const withoutImage = { ...json, added_tokens: json.added_tokens.filter((token) => token.content !== '<image>') };
    expect(() => TextTokenizer.fromJson(withoutImage, config)).toThrow(InvalidModelError);
  });

  it('a decoder other than byte-level', () => {
    expect(() => TextTokenizer.fromJson({ ...json, decoder: { type: 'Metaspace' } }, config)).toThrow(InvalidModelError);
  });

  it('clean_up_tokenization_spaces, which the streaming detokenizer cannot reproduce', () => {
    expect(() => TextTokenizer.fromJson(json, { ...config, clean_up_tokenization_spaces: true })).toThrow(/clean_up_tokenization_spaces/);
  });

  it('non-objects', () => {
    expect(() => TextTokenizer.fromJson(null, config)).toThrow(InvalidModelError);
    expect(() => TextTokenizer.fromJson(json, [])).toThrow(InvalidModelError);
  });
});
