import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError } from '../../errors/index.js';
import { IMAGE_TOKEN } from '../../core/text/special-tokens.js';
import type { TokenizerConfigJson, TokenizerJson } from '../../core/text/tokenizer-json.js';
import { buildTokenizerJson } from './build-tokenizer-json.js';
import { tokenizerConfigWithImageToken, withImageToken } from './image-token.js';

export interface TokenizerFiles {
  readonly tokenizerJson: TokenizerJson;
  readonly tokenizerConfig: TokenizerConfigJson;
}

/** File names inside a converted model folder (what the manifest's `tokenizer` entry points at). */
export const TOKENIZER_JSON_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

async function readText(directory: string, name: string): Promise<string> {
  const path = join(directory, name);
  if (!existsSync(path)) {
    throw new InvalidModelError(`the Qwen folder ${directory} has no ${name}`, { details: { file: path } });
  }
  return readFile(path, 'utf8');
}

function parseTokenizerJson(text: string): TokenizerJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidModelError(`${TOKENIZER_JSON_FILE} is not valid JSON`, { cause });
  }
  const model = (value as { model?: { type?: unknown } } | null)?.model;
  if (model?.type !== 'BPE' || !Array.isArray((value as TokenizerJson).added_tokens)) {
    throw new InvalidModelError(`${TOKENIZER_JSON_FILE} is not a byte-pair tokenizer with added tokens`);
  }
  return value as TokenizerJson;
}

/**
 * Tokenizer files for a converted model, from a Qwen2.5 folder: its `tokenizer.json` when present
 * (copied, `<image>` added if absent), otherwise one built from `vocab.json` + `merges.txt`.
 * `tokenizer_config.json` is copied with `<image>` added to its `added_tokens_decoder`.
 */
export async function prepareTokenizerFiles(qwenDirectory: string): Promise<TokenizerFiles> {
  const configText = await readText(qwenDirectory, TOKENIZER_CONFIG_FILE);
  const tokenizerJson = existsSync(join(qwenDirectory, TOKENIZER_JSON_FILE))
    ? withImageToken(parseTokenizerJson(await readText(qwenDirectory, TOKENIZER_JSON_FILE)))
    : buildTokenizerJson(await readText(qwenDirectory, 'vocab.json'), await readText(qwenDirectory, 'merges.txt'), configText);
  const imageToken = tokenizerJson.added_tokens.find((token) => token.content === IMAGE_TOKEN)!;
  let config: TokenizerConfigJson;
  try {
    config = JSON.parse(configText) as TokenizerConfigJson;
  } catch (cause) {
    throw new InvalidModelError(`${TOKENIZER_CONFIG_FILE} is not valid JSON`, { cause });
  }
  return { tokenizerJson, tokenizerConfig: tokenizerConfigWithImageToken(config, imageToken.id) };
}

/** Writes the two tokenizer files into `outputDirectory`; returns their names for the manifest. */
export async function writeTokenizerFiles(qwenDirectory: string, outputDirectory: string): Promise<{ json: string; config: string }> {
  const files = await prepareTokenizerFiles(qwenDirectory);
  await writeFile(join(outputDirectory, TOKENIZER_JSON_FILE), JSON.stringify(files.tokenizerJson));
  await writeFile(join(outputDirectory, TOKENIZER_CONFIG_FILE), JSON.stringify(files.tokenizerConfig, null, 2));
  return { json: TOKENIZER_JSON_FILE, config: TOKENIZER_CONFIG_FILE };
}
