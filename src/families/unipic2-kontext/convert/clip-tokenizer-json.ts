import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';

// The CLIP pre-tokenizer split (CLIPTokenizer's `pat` without the two special tokens, which the
// added-token pass handles), as transformers' CLIPConverter writes it.
const CLIP_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
// CLIPTokenizer reads merges.txt lines 1 .. 49152 − 256 − 2 (the BPE merges of the 49408 vocabulary).
const CLIP_MERGE_COUNT = 49152 - 256 - 2;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * A `tokenizer.json` (Hugging Face tokenizers format) for one of SD3's CLIP tokenizer folders, which
 * ship the slow tokenizer's files only: `vocab.json`, `merges.txt` and `tokenizer_config.json`.
 * Same construction as transformers' `CLIPConverter` (NFC, whitespace runs → one space, lowercase;
 * the CLIP split; byte-level alphabet; BPE with `</w>` word ends), plus the folder's added tokens —
 * including tokenizer_2's pad token `!` (id 0), which as an added special token is split out of the
 * text before BPE, so a literal `!` becomes id 0 there and 256 in tokenizer/ (transformers treats a pad token as special).
 * A folder that already has a `tokenizer.json` is used as is.
 */
export async function clipTokenizerJson(folder: string): Promise<unknown> {
  if (existsSync(join(folder, 'tokenizer.json'))) return readJsonFile(join(folder, 'tokenizer.json'), 64 * MAX_FILE_BYTES);
  const vocab = (await readJsonFile(join(folder, 'vocab.json'), MAX_FILE_BYTES)) as Record<string, number>;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new InvalidModelError(`${folder}/vocab.json is not an object`);
  const lines = (await readFile(join(folder, 'merges.txt'), 'utf8')).trim().split('\n');
  const merges = lines.slice(1, CLIP_MERGE_COUNT + 1).map((line, i) => {
    const parts = line.split(' ');
    if (parts.length !== 2) throw new InvalidModelError(`${folder}/merges.txt line ${i + 2} is not two symbols`);
    return parts;
  });
  const config = (await readJsonFile(join(folder, 'tokenizer_config.json'), MAX_FILE_BYTES)) as {
    added_tokens_decoder?: Record<string, Partial<AddedToken> & { content: string }>;
    unk_token?: string;
  };
  const added: AddedToken[] = Object.entries(config.added_tokens_decoder ?? {}).map(([id, token]) => ({
    id: Number(id),
    content: token.content,
    single_word: token.single_word ?? false,
    lstrip: token.lstrip ?? false,
    rstrip: token.rstrip ?? false,
    normalized: token.normalized ?? true,
    special: token.special ?? true,
  }));
  for (const token of added) {
    if (vocab[token.content] !== token.id && !(token.content === '!' && vocab['!'] === token.id)) {
      throw new InvalidModelError(`${folder}: added token ${JSON.stringify(token.content)} has id ${token.id}, vocab.json says ${vocab[token.content]}`);
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: config.unk_token ?? '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
