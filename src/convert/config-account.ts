import { InvalidModelError } from '../errors/invalid-model-error.js';

/** What the converter did with each field of a config file it read. */
export interface ConfigAccount {
  readonly used: ReadonlyArray<{ file: string; field: string }>;
  readonly ignored: ReadonlyArray<{ file: string; field: string; why: string }>;
}

/**
 * How one config field is treated:
 * - `use`: read into the structure or the manifest;
 * - `ignore`: without effect on inference, for the reason given;
 * - `neutral`: ignored while it has one of the `neutral` values (the ones that change nothing),
 *   refused otherwise, because unipic does not implement what another value asks for.
 */
export type FieldRule =
  | { readonly kind: 'use' }
  | { readonly kind: 'ignore'; readonly why: string }
  | { readonly kind: 'neutral'; readonly neutral: readonly unknown[]; readonly why: string; readonly refusal: string };

/** Rule constructors, so every config reader spells its rules the same way. */
export const useField: FieldRule = { kind: 'use' };
export const ignoreField = (why: string): FieldRule => ({ kind: 'ignore', why });
export const neutralField = (values: readonly unknown[], why: string, refusal: string): FieldRule => ({ kind: 'neutral', neutral: values, why, refusal });

/**
 * Sorts every field of `json` by `rules`; a field with no rule, or a `neutral` one with another
 * value, is refused (InvalidModelError naming every such field), never dropped quietly.
 */
export function accountFields(file: string, json: Readonly<Record<string, unknown>>, rules: Readonly<Record<string, FieldRule>>): ConfigAccount {
  const used: { file: string; field: string }[] = [];
  const ignored: { file: string; field: string; why: string }[] = [];
  const refused: string[] = [];
  for (const [field, value] of Object.entries(json)) {
    const rule = rules[field];
    if (!rule) refused.push(`"${field}" is a field unipic does not know`);
    else if (rule.kind === 'use') used.push({ file, field });
    else if (rule.kind === 'ignore') ignored.push({ file, field, why: rule.why });
    else if (rule.neutral.some((n) => JSON.stringify(n) === JSON.stringify(value))) ignored.push({ file, field, why: rule.why });
    else refused.push(`"${field}": ${JSON.stringify(value)} ${rule.refusal}`);
  }
  if (refused.length) {
    throw new InvalidModelError(`${file}: ${refused.join('; ')}. unipic refuses what it would otherwise get silently wrong (docs/converter.md#variants)`, {
      details: { file, refused },
    });
  }
  return { used, ignored };
}

export function mergeAccounts(...accounts: readonly ConfigAccount[]): ConfigAccount {
  return { used: accounts.flatMap((a) => a.used), ignored: accounts.flatMap((a) => a.ignored) };
}
