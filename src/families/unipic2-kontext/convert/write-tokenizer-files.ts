import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';
import type { KontextManifest } from '../kontext-manifest.js';
import { clipTokenizerJson } from './clip-tokenizer-json.js';

type Entry = KontextManifest['tokenizers']['clipL'];

function idOf(json: unknown, content: string, where: string): number {
  const { model, added_tokens: added } = json as { model: { vocab: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[] };
  const hit = added?.find((t) => t.content === content);
  if (hit) return hit.id;
  const vocab = model.vocab;
  const id = Array.isArray(vocab) ? vocab.findIndex(([piece]) => piece === content) : vocab[content];
  if (id === undefined || id < 0) throw new InvalidModelError(`${where} has no token ${JSON.stringify(content)}`);
  return id;
}

async function clip(folder: string, out: string, file: string): Promise<Entry> {
  const json = await clipTokenizerJson(folder);
  const config = (await readJsonFile(join(folder, 'tokenizer_config.json'), 1 << 24)) as { pad_token?: unknown; bos_token?: unknown; eos_token?: unknown };
  const name = (v: unknown, fallback: string): string =>
    typeof v === 'string' ? v : typeof v === 'object' && v && 'content' in v ? String((v as { content: unknown }).content) : fallback;
  await writeFile(join(out, file), JSON.stringify(json));
  return {
    file,
    bos: idOf(json, name(config.bos_token, '<|startoftext|>'), folder),
    eos: idOf(json, name(config.eos_token, '<|endoftext|>'), folder),
    pad: idOf(json, name(config.pad_token, '<|endoftext|>'), folder),
  };
}

/** Writes the three tokenizers as tokenizer.json files and returns their manifest entries. */
export async function writeKontextTokenizers(root: string, out: string, withT5: boolean): Promise<KontextManifest['tokenizers']> {
  const clipL = await clip(join(root, 'tokenizer'), out, 'tokenizer_clip_l.json');
  const clipG = await clip(join(root, 'tokenizer_2'), out, 'tokenizer_clip_g.json');
  if (!withT5) return { clipL, clipG };
  const folder = join(root, 'tokenizer_3');
  const json = await readJsonFile(join(folder, 'tokenizer.json'), 1 << 26);
  const file = 'tokenizer_t5.json';
  await writeFile(join(out, file), JSON.stringify(json));
  return { clipL, clipG, t5: { file, eos: idOf(json, '</s>', folder), pad: idOf(json, '<pad>', folder) } };
}
