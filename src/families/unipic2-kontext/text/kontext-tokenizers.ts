import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { KontextTokenizerEntry } from '../kontext-manifest.js';
import { basicTokenizerPrepass } from './basic-tokenizer-prepass.js';

function load(json: unknown, file: string): Tokenizer {
  try {
    return new Tokenizer(json as ConstructorParameters<typeof Tokenizer>[0], {});
  } catch (cause) {
    throw new InvalidModelError(`${file} could not be loaded as a tokenizer`, { cause, details: { file } });
  }
}

/**
 * A CLIP tokenizer of the pipeline (`_get_clip_prompt_embeds` of the official `pipeline_stable_diffusion_3_kontext.py`): `padding="max_length", max_length=77,
 * truncation=True` — `[BOS] + first 75 tokens + [EOS]`, then the folder's pad id (49407 for CLIP-L,
 * 0 = `!` for CLIP-G).
 */
export class ClipPromptTokenizer {
  private readonly tokenizer: Tokenizer;
  constructor(
    json: unknown,
    private readonly entry: KontextTokenizerEntry,
    readonly length: number,
  ) {
    this.tokenizer = load(json, entry.file);
    if (entry.bos === undefined) throw new InvalidModelError(`${entry.file}: a CLIP tokenizer needs a BOS id`);
  }

  encode(text: string): number[] {
    const pieces = text.length === 0 ? [] : this.tokenizer.encode(basicTokenizerPrepass(text), { add_special_tokens: false }).ids;
    const ids = [this.entry.bos as number, ...pieces.slice(0, this.length - 2), this.entry.eos];
    while (ids.length < this.length) ids.push(this.entry.pad);
    return ids;
  }
}

/** T5TokenizerFast as the pipeline calls it: tokens + `</s>`, truncated to `length`, padded with `<pad>`. */
export class T5PromptTokenizer {
  private readonly tokenizer: Tokenizer;
  constructor(
    json: unknown,
    private readonly entry: KontextTokenizerEntry,
    readonly length: number,
  ) {
    this.tokenizer = load(json, entry.file);
  }

  encode(text: string): number[] {
    const pieces = text.length === 0 ? [] : this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const ids = [...pieces.slice(0, this.length - 1), this.entry.eos];
    while (ids.length < this.length) ids.push(this.entry.pad);
    return ids;
  }
}
