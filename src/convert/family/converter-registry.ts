import { stat } from 'node:fs/promises';
import { isHubId, parseHubId } from '../../core/hub/hub-id.js';
import { listHubRepo } from '../../node/hf-cache/fetch-hub-files.js';
import { convertFromHub, hubFetchOptions, type HubConvertOptions } from '../hub/convert-from-hub.js';
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
export async function detectConverter(path: string, family?: string, hubOptions: HubConvertOptions = {}): Promise<ConverterFamily> {
  const known = registeredConverters();
  if (family !== undefined) {
    const chosen = converters.get(family);
    if (!chosen) throw new UnrecognizedCheckpointError(`no converter for family "${family}" (known: ${known.join(', ')})`, { details: { families: known } });
    return chosen;
  }
  if (isHubId(path)) return detectHubConverter(path, hubOptions);
  try {
    await stat(path);
  } catch (cause) {
    throw new ModelNotFoundError(`checkpoint path ${path} does not exist`, { cause });
  }
  return pickConverter(path, await Promise.all([...converters.values()].map(async (converter) => ({ converter, verdict: await converter.detect(path) }))));
}

/**
 * An `hf:` id: nothing is on disk to look at yet, so each family that converts from the Hub judges
 * the repository's listing (one request, or the cached listing offline).
 */
async function detectHubConverter(id: string, options: HubConvertOptions): Promise<ConverterFamily> {
  const hubFamilies = [...converters.values()].filter((converter) => converter.hub);
  if (hubFamilies.length === 0) {
    throw new UnrecognizedCheckpointError(`no model family converts from the Hub (families: ${registeredConverters().join(', ') || 'none'})`, {
      details: { families: [] },
    });
  }
  const target = parseHubId(id);
  const files = await listHubRepo(target.repo, target.revision ?? options.hub?.revision ?? 'main', hubFetchOptions(options));
  return pickConverter(
    id,
    hubFamilies.map((converter) => ({ converter, verdict: converter.hub?.detect(files, target.subfolder) })),
  );
}

function pickConverter(path: string, verdicts: readonly { converter: ConverterFamily; verdict: 'certain' | 'possible' | undefined }[]): ConverterFamily {
  const known = registeredConverters();
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
  options: CommonConvertOptions & HubConvertOptions & { readonly family?: string } & Readonly<Record<string, unknown>> = {},
): Promise<ConvertResult & { readonly family: string }> {
  const { family, ...rest } = options;
  const converter = await detectConverter(path, family, rest);
  const hub = converter.hub;
  if (!isHubId(path) || converter.acceptsHubIds) return { ...(await converter.convert(path, outDir, rest)), family: converter.id };
  if (!hub)
    throw new UnrecognizedCheckpointError(`the ${converter.id} converter does not take Hub ids; download ${path} and convert the folder`, {
      details: { families: [] },
    });
  const started = Date.now();
  const { summary, snapshots } = await convertFromHub(
    path,
    rest,
    (folder, origin, fetched) => converter.convert(folder, outDir, { ...rest, source: origin, ...hub.convertOptions?.(fetched, rest) }),
    hub,
    rest,
    outDir,
  );
  return { ...summary, fetched: snapshots, ms: Date.now() - started, family: converter.id };
}
