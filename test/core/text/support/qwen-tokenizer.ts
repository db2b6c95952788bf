import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildTokenizerJson } from '../../../../src/convert/tokenizer/build-tokenizer-json.js';
import { TextTokenizer } from '../../../../src/core/text/tokenizer.js';

/** Shared by the text tests: the bundled Qwen2.5 files and the Hugging Face fixtures. */
export const ASSETS = fileURLToPath(new URL('../../../../assets/qwen2.5-tokenizer/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/tokenizer/', import.meta.url));

export function readAsset(name: string): string {
  return readFileSync(ASSETS + name, 'utf8');
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as T;
}

export interface CorpusEntry {
  text: string;
  ids: number[];
  decoded: string;
  decodedSkipSpecial: string;
  slowIds?: number[];
}

export interface DecodeCase {
  ids: number[];
  decoded: string;
  decodedSkipSpecial: string;
}

let cached: TextTokenizer | undefined;

/** The tokenizer the converter builds from the bundled files, loaded the way the SDK loads it. */
export function qwenTokenizer(): TextTokenizer {
  cached ??= TextTokenizer.fromJson(
    buildTokenizerJson(readAsset('vocab.json'), readAsset('merges.txt'), readAsset('tokenizer_config.json')),
    JSON.parse(readAsset('tokenizer_config.json')),
  );
  return cached;
}
