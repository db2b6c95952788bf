import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../../src/errors/index.js';
import { buildTokenizerJson, QWEN2_SPLIT_PATTERN } from '../../../src/convert/tokenizer/build-tokenizer-json.js';
import { prepareTokenizerFiles, writeTokenizerFiles } from '../../../src/convert/tokenizer/tokenizer-files.js';
import { TextTokenizer } from '../../../src/core/text/tokenizer.js';
import type { TokenizerJson } from '../../../src/core/text/tokenizer-json.js';
import { ASSETS, readAsset, readFixture, type CorpusEntry } from './support/qwen-tokenizer.js';

// Oracle: the tokenizer.json that transformers 4.45.2 converts from the same files
// (Qwen2TokenizerFast.from_pretrained(from_slow=True) + the scripts' `<image>`), minus its
// vocabulary, written by tools/reference/tokenizer/generate.py.
interface CheckpointConfig {
  normalizer: unknown;
  pre_tokenizer: { pretokenizers: Array<Record<string, unknown>> };
  added_tokens: unknown[];
  model: Record<string, unknown>;
  vocabSize: number;
  mergeCount: number;
  firstMerges: string[][];
  lastMerges: string[][];
}
const reference = readFixture<CheckpointConfig>('tokenizer-structure.json');
const corpus = readFixture<{ entries: CorpusEntry[] }>('corpus.json').entries;
const vocabText = readAsset('vocab.json');
const mergesText = readAsset('merges.txt');
const configText = readAsset('tokenizer_config.json');
const temporary: string[] = [];

function scratchDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'unipic-tokenizer-'));
  temporary.push(directory);
  return directory;
}

afterAll(() => {
  for (const directory of temporary) rmSync(directory, { recursive: true, force: true });
});

describe('buildTokenizerJson', () => {
  const json = buildTokenizerJson(vocabText, mergesText, configText);
  const merges = json.model.merges as string[][];

  it('agrees with the transformers conversion on everything that decides ids', () => {
    expect(json.normalizer).toEqual(reference.normalizer);
    const [split, byteLevel] = (json.pre_tokenizer as CheckpointConfig['pre_tokenizer']).pretokenizers;
    expect(split).toEqual(reference.pre_tokenizer.pretokenizers[0]);
    expect(split!.pattern).toEqual({ Regex: QWEN2_SPLIT_PATTERN });
    // add_prefix_space and use_regex change ids; trim_offsets only changes offsets.
    expect(byteLevel).toMatchObject({
      type: 'ByteLevel',
      add_prefix_space: reference.pre_tokenizer.pretokenizers[1]!.add_prefix_space,
      use_regex: reference.pre_tokenizer.pretokenizers[1]!.use_regex,
    });
    expect(json.added_tokens).toEqual(reference.added_tokens);
    expect(json.model).toMatchObject(reference.model);
    expect(Object.keys(json.model.vocab)).toHaveLength(reference.vocabSize);
    expect(merges).toHaveLength(reference.mergeCount);
    expect(merges.slice(0, 5)).toEqual(reference.firstMerges);
    expect(merges.slice(-5)).toEqual(reference.lastMerges);
  });

  it('adds <image> as special token 151665 after the 22 Qwen added tokens', () => {
    expect(json.added_tokens.map((token) => token.id)).toEqual(Array.from({ length: 23 }, (_, index) => 151643 + index));
    expect(json.added_tokens.at(-1)).toMatchObject({ id: 151665, content: '<image>', special: true, normalized: false });
  });

  it('accepts a #version header, CRLF line ends and blank lines in merges.txt', () => {
    const variant = `#version: 0.2\r\n${mergesText.split('\n').slice(0, 2000).join('\r\n')}\r\n\r\n`;
    const built = buildTokenizerJson(vocabText, variant, configText);
    expect(built.model.merges).toEqual(merges.slice(0, 2000));
  });

  it.each([
    ['a merge line with three parts', vocabText, 'Ġ Ġ Ġ\n', configText, /line 1/],
    ['a merge symbol missing from the vocabulary', vocabText, 'Ġ Ġ\nnot-a-token x\n', configText, /line 2/],
    ['vocab.json that is not JSON', '{', mergesText, configText, /vocab.json/],
    ['vocab.json with a repeated id', '{"a": 0, "b": 0}', '', configText, /id 0/],
    ['vocab.json with a non-integer id', '{"a": 0.5}', '', configText, /not an id/],
    ['a config without added tokens', vocabText, mergesText, '{}', /added_tokens_decoder/],
    ['an added token clashing with the vocabulary', '{"<|im_end|>": 3}', '', configText, /vocab.json says 3/],
  ])('rejects %s', (_label, vocab, mergeLines, config, message) => {
    expect(() => buildTokenizerJson(vocab, mergeLines, config)).toThrow(InvalidModelError);
    expect(() => buildTokenizerJson(vocab, mergeLines, config)).toThrow(message);
  });
});

describe('prepareTokenizerFiles / writeTokenizerFiles', () => {
  it('builds from vocab.json + merges.txt when the Qwen folder has no tokenizer.json', async () => {
    const output = scratchDirectory();
    const names = await writeTokenizerFiles(ASSETS, output);
    expect(names).toEqual({ json: 'tokenizer.json', config: 'tokenizer_config.json' });
    const json = JSON.parse(readFileSync(join(output, names.json), 'utf8')) as TokenizerJson;
    const config = JSON.parse(readFileSync(join(output, names.config), 'utf8')) as Record<string, any>;
    expect(config.added_tokens_decoder['151665']).toMatchObject({ content: '<image>', special: true });
    expect(config.additional_special_tokens).toContain('<image>');
    expect(config.eos_token).toBe('<|im_end|>');
    const tokenizer = TextTokenizer.fromJson(json, config);
    for (const entry of corpus.slice(0, 50)) expect(tokenizer.encode(entry.text)).toEqual(entry.ids);
  });

  it('copies an existing tokenizer.json and adds <image> when it is missing', async () => {
    const source = scratchDirectory();
    const built = buildTokenizerJson(vocabText, mergesText, configText);
    // String merges (the layout of Qwen's shipped file) show the file was copied, not rebuilt.
    const withoutImage = {
      ...built,
      added_tokens: built.added_tokens.filter((token) => token.content !== '<image>'),
      model: { ...built.model, merges: (built.model.merges as string[][]).map((pair) => pair.join(' ')) },
    };
    writeFileSync(join(source, 'tokenizer.json'), JSON.stringify(withoutImage));
    writeFileSync(join(source, 'tokenizer_config.json'), configText);
    const files = await prepareTokenizerFiles(source);
    expect(files.tokenizerJson.added_tokens).toEqual(built.added_tokens);
    expect(files.tokenizerJson.model.merges.slice(0, 2)).toEqual(['Ġ Ġ', 'ĠĠ ĠĠ']);
  });

  it('keeps a tokenizer.json that already has a special <image>, and refuses a non-special one', async () => {
    const source = scratchDirectory();
    const built = buildTokenizerJson(vocabText, mergesText, configText);
    writeFileSync(join(source, 'tokenizer_config.json'), configText);
    writeFileSync(join(source, 'tokenizer.json'), JSON.stringify(built));
    expect((await prepareTokenizerFiles(source)).tokenizerJson.added_tokens).toEqual(built.added_tokens);
    const nonSpecial = {
      ...built,
      added_tokens: built.added_tokens.map((token) => (token.content === '<image>' ? { ...token, special: false } : token)),
    };
    writeFileSync(join(source, 'tokenizer.json'), JSON.stringify(nonSpecial));
    await expect(prepareTokenizerFiles(source)).rejects.toThrow(/non-special/);
  });

  it('names the missing file', async () => {
    const source = scratchDirectory();
    writeFileSync(join(source, 'tokenizer_config.json'), configText);
    await expect(prepareTokenizerFiles(source)).rejects.toThrow(/vocab.json/);
    await expect(prepareTokenizerFiles(scratchDirectory())).rejects.toThrow(/tokenizer_config.json/);
  });
});
