import { InvalidModelError } from '../../errors/index.js';
import { IMAGE_TOKEN } from '../../core/text/special-tokens.js';
import type { AddedTokenJson, TokenizerConfigJson, TokenizerJson } from '../../core/text/tokenizer-json.js';

/** What `tokenizer.add_tokens(["<image>"], special_tokens=True)` registers in `tokenizers`. */
function imageAddedToken(id: number): AddedTokenJson {
  return { id, content: IMAGE_TOKEN, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** `len(tokenizer)` in transformers: the id a newly added token receives. */
function nextTokenId(tokenizer: TokenizerJson): number {
  let highest = -1;
  for (const id of Object.values(tokenizer.model.vocab)) highest = Math.max(highest, id);
  for (const token of tokenizer.added_tokens) highest = Math.max(highest, token.id);
  return highest + 1;
}

/**
 * Returns `tokenizer` with `<image>` as a special added token, numbered the way the official
 * scripts number it at run time; an existing `<image>` is kept (it must be special, or prompts
 * would tokenize it as text).
 */
export function withImageToken(tokenizer: TokenizerJson): TokenizerJson {
  const existing = tokenizer.added_tokens.find((token) => token.content === IMAGE_TOKEN);
  if (existing !== undefined) {
    if (!existing.special) {
      throw new InvalidModelError(`tokenizer.json has ${IMAGE_TOKEN} (id ${existing.id}) as a non-special token`, {
        details: { file: 'tokenizer.json', id: existing.id },
      });
    }
    return tokenizer;
  }
  if (Object.hasOwn(tokenizer.model.vocab, IMAGE_TOKEN)) {
    throw new InvalidModelError(`tokenizer.json has ${IMAGE_TOKEN} in its BPE vocabulary, not as an added token`, {
      details: { file: 'tokenizer.json' },
    });
  }
  const added = imageAddedToken(nextTokenId(tokenizer));
  return { ...tokenizer, added_tokens: [...tokenizer.added_tokens, added] };
}

/** Mirrors `withImageToken` in `tokenizer_config.json`, so both files agree on the id. */
export function tokenizerConfigWithImageToken(config: TokenizerConfigJson, imageTokenId: number): TokenizerConfigJson {
  const decoder = { ...(config.added_tokens_decoder ?? {}) };
  const entry = decoder[String(imageTokenId)];
  if (entry !== undefined && entry.content !== IMAGE_TOKEN) {
    throw new InvalidModelError(`tokenizer_config.json already uses id ${imageTokenId} for ${JSON.stringify(entry.content)}`, {
      details: { file: 'tokenizer_config.json', id: imageTokenId },
    });
  }
  decoder[String(imageTokenId)] = {
    content: IMAGE_TOKEN,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: true,
  };
  const additional = config.additional_special_tokens ?? [];
  return {
    ...config,
    added_tokens_decoder: decoder,
    additional_special_tokens: additional.includes(IMAGE_TOKEN) ? additional : [...additional, IMAGE_TOKEN],
  };
}
