import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeKontextTokenizers } from '../../../src/families/unipic2-kontext/convert/write-tokenizer-files.js';
import type { KontextManifest } from '../../../src/families/unipic2-kontext/kontext-manifest.js';
import { ClipPromptTokenizer, T5PromptTokenizer } from '../../../src/families/unipic2-kontext/text/kontext-tokenizers.js';
import { freshDir, KONTEXT_ROOT, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

interface Entry {
  text: string;
  clip_l: number[];
  clip_g: number[];
  t5: number[];
}
const corpus = (JSON.parse(readFileSync(join(KONTEXT_ROOT, 'tokens.json'), 'utf8')) as { corpus: Entry[] }).corpus;

let clipL: ClipPromptTokenizer;
let clipG: ClipPromptTokenizer;
let t5: T5PromptTokenizer;
let entries: KontextManifest['tokenizers'];

beforeAll(async () => {
  const out = freshDir('tokenizers');
  entries = await writeKontextTokenizers(TINY_CHECKPOINT, out, true);
  const read = (file: string): unknown => JSON.parse(readFileSync(join(out, file), 'utf8'));
  clipL = new ClipPromptTokenizer(read(entries.clipL.file), entries.clipL, 77);
  clipG = new ClipPromptTokenizer(read(entries.clipG.file), entries.clipG, 77);
  t5 = new T5PromptTokenizer(read(entries.t5!.file), entries.t5!, 256);
});

describe('Kontext tokenizers vs the Python tokenizers (tokens.json corpus)', () => {
  it('records the special ids of the three folders', () => {
    expect(entries.clipL).toMatchObject({ bos: 49406, eos: 49407, pad: 49407 });
    expect(entries.clipG).toMatchObject({ bos: 49406, eos: 49407, pad: 0 });
    expect(entries.t5).toMatchObject({ eos: 1, pad: 0 });
  });

  for (const [i, entry] of corpus.entries()) {
    it(`#${i} ${JSON.stringify(entry.text.slice(0, 40))}: slow CLIP-L, CLIP-G (the ! quirk) and T5 ids`, () => {
      expect(clipL.encode(entry.text)).toEqual(entry.clip_l);
      expect(clipG.encode(entry.text)).toEqual(entry.clip_g);
      expect(t5.encode(entry.text)).toEqual(entry.t5);
    });
  }
});
