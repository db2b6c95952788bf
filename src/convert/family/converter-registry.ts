import { stat } from 'node:fs/promises';
import { isHubId } from '../../core/hub/hub-id.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { UnrecognizedCheckpointError } from '../../errors/unrecognized-checkpoint-error.js';
import type { CommonConvertOptions, ConverterFamily, ConvertResult } from './converter-family.js';

const converters = new Map<string, ConverterFamily>();

/** Make a family's converter available to `convertModel` and `unipic convert`; an id again replaces it. */
export function registerConverter(converter: ConverterFamily): void {
  converters.set(converter.id, converter);
}

export function registeredConverters(): string[] {
  return [...converters.keys()];
}

/**
 * The converter for the checkpoint at `path`: the one family that is `certain`, else the one that
 * finds it `possible`. None, or several equally sure, is an UnrecognizedCheckpointError naming them
 * (pass `family` to choose); a missing path is a ModelNotFoundError.
 */
export async function detectConverter(path: string, family?: string): Promise<ConverterFamily> {
  const known = registeredConverters();
  if (family !== undefined) {
    const chosen = converters.get(family);
    if (!chosen) throw new UnrecognizedCheckpointError(`no converter for family "${family}" (known: ${known.join(', ')})`, { details: { families: known } });
    return chosen;
  }
  if (isHubId(path)) {
    // Nothing is on disk to look at yet: the families that fetch from the Hub decide, and with
    // several of them the caller names one (each family's converter fetches only its own files).
    const hubFamilies = [...converters.values()].filter((c) => c.acceptsHubIds);
    if (hubFamilies.length === 1) return hubFamilies[0];
    throw new UnrecognizedCheckpointError(
      hubFamilies.length === 0
        ? `no model family converts from the Hub (families: ${known.join(', ') || 'none'})`
        : `${path}: choose the model family with --family (${hubFamilies.map((c) => c.id).join(', ')})`,
      { details: { families: hubFamilies.map((c) => c.id) } },
    );
  }
  try {
    await stat(path);
  } catch (cause) {
    throw new ModelNotFoundError(`checkpoint path ${path} does not exist`, { cause });
  }
  const verdicts = await Promise.all([...converters.values()].map(async (converter) => ({ converter, verdict: await converter.detect(path) })));
  for (const level of ['certain', 'possible'] as const) {
    const matches = verdicts.filter((v) => v.verdict === level).map((v) => v.converter);
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      throw new UnrecognizedCheckpointError(`${path} could be a checkpoint of ${matches.map((m) => m.id).join(' or ')}; choose one with --family`, {
        details: { families: matches.map((m) => m.id) },
      });
    }
  }
  throw new UnrecognizedCheckpointError(`no model family recognises ${path} as its checkpoint (families: ${known.join(', ') || 'none'})`, {
    details: { families: known },
  });
}

/** Convert a checkpoint with the family that recognises it (or the one named by `options.family`). */
export async function convertModel(
  path: string,
  outDir: string,
  options: CommonConvertOptions & { readonly family?: string } & Readonly<Record<string, unknown>> = {},
): Promise<ConvertResult & { readonly family: string }> {
  const { family, ...rest } = options;
  const converter = await detectConverter(path, family);
  return { ...(await converter.convert(path, outDir, rest)), family: converter.id };
}
