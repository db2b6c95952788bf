import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { formatHubId, parseHubId } from '../../core/hub/hub-id.js';
import { hubOptionsSchema, type HubOptions } from '../../core/hub/hub-options.js';
import { networkOptionsSchema, type NetworkOptions } from '../../core/sources/network-options.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { fetchHubFiles, type FetchedSnapshot, type FetchHubFilesOptions } from '../../node/hf-cache/fetch-hub-files.js';
import type { HubFileRequest, HubRepoFile } from '../../core/hub/hub-files.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import { snapshotViews } from './snapshot-view.js';
import { fetchForStreaming, type StreamedFetch } from './streamed-fetch.js';
import { withArrivals } from '../readers/arriving-files.js';

/** Where a checkpoint lies on the Hub: a repository, its revision, a folder in it. */
export interface HubCheckpointLocation {
  readonly repo: string;
  readonly revision: string;
  readonly subfolder: string;
}

/**
 * How a family's converter takes its checkpoint from the Hub: whether a repository's listing looks
 * like its checkpoint, the repositories and files to fetch (one request per repository; MetaQuery
 * adds Qwen2.5-VL's), the converter options that point at the fetched folders, and whether a failed
 * conversion asks for more files (`needsWider`), which the driver then fetches (`widened: true`)
 * and retries, once.
 */
export interface HubCheckpointFamily {
  /** How sure the family is, from the listing alone, that the folder `subfolder` holds its checkpoint. */
  detect(files: readonly HubRepoFile[], subfolder: string): 'certain' | 'possible' | undefined;
  /** `options`: the conversion's own (e.g. MetaQuery's `vlm`, which may name a second repository). */
  requests(location: HubCheckpointLocation, widened: boolean, options: Readonly<Record<string, unknown>>): HubFileRequest[];
  /** Options for the folder conversion that name the other fetched folders (MetaQuery: `vlm`). */
  convertOptions?(snapshots: readonly FetchedSnapshot[], options: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** Whether this conversion failure could be cured by the wider file list. */
  needsWider?(error: unknown): boolean;
}

/** Options of a conversion whose checkpoint is an `hf:` id (beside the ordinary convert options). */
export interface HubConvertOptions {
  /** Token, endpoint, revision, cache root; defaults from HF_TOKEN, HF_ENDPOINT, HF_HUB_CACHE / HF_HOME. */
  readonly hub?: HubOptions;
  /** Use the Hugging Face cache only, no request (also `HF_HUB_OFFLINE=1`). */
  readonly offline?: boolean;
  /** Retries, timeouts, redirects, extra headers for the downloads (docs/loading.md). */
  readonly network?: Partial<NetworkOptions>;
  readonly fetch?: typeof fetch;
  /** Byte progress of the downloads (the load progress events: `download` / `cache-read`). */
  readonly onDownloadProgress?: LoadProgressCallback;
  /** Where HF_* variables are read (default `process.env`). */
  readonly environment?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /**
   * Start converting while the weights download (default true): the converter reads each tensor
   * as soon as its bytes are on disk. `false` downloads every file first.
   */
  readonly stream?: boolean;
}

const hubConvertOptionsSchema = z.object({
  hub: hubOptionsSchema.optional(),
  offline: z.boolean().optional(),
  network: networkOptionsSchema.partial().optional(),
  stream: z.boolean().optional(),
});

/** The download options of a Hub conversion, validated (zod) before any request. */
export function hubFetchOptions(options: HubConvertOptions): FetchHubFilesOptions {
  const parsed = hubConvertOptionsSchema.safeParse({ hub: options.hub, offline: options.offline, network: options.network, stream: options.stream });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    throw new InvalidOptionsError(`invalid convert options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { details: { issues } });
  }
  return {
    ...(options.hub ? { hub: options.hub } : {}),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.network ? { network: options.network } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
  };
}

/**
 * Converts the fetched checkpoint: `folder` is a view of the first request's snapshot holding only
 * the selected files (snapshot-view.ts; with the id's folder inside it), `origin` what the
 * manifest's `source` records (every fetched repository pinned to its commit); a family that
 * fetched more repositories (MetaQuery's Qwen2.5-VL) finds their views in `snapshots`.
 */
export type ConvertFolder<Summary> = (folder: string, origin: string, snapshots: readonly FetchedSnapshot[]) => Promise<Summary>;

export interface HubConversion<Summary> {
  readonly summary: Summary;
  /** What was fetched: repository, revision, the commit it resolved to, the snapshot folder. */
  readonly snapshots: readonly FetchedSnapshot[];
}

/**
 * `hf:<org>/<name>[@<revision>][/<folder>]` → the files the family's converter needs, in the
 * standard Hugging Face cache (reused when present, downloaded and verified otherwise), then the
 * ordinary folder conversion of the snapshot, with the commit recorded as the source.
 */
export async function convertFromHub<Summary>(
  id: string,
  options: HubConvertOptions,
  convertFolder: ConvertFolder<Summary>,
  family: HubCheckpointFamily,
  familyOptions: Readonly<Record<string, unknown>> = {},
  outDir?: string,
): Promise<HubConversion<Summary>> {
  const fetchOptions = hubFetchOptions(options);
  const target = parseHubId(id);
  const revision = target.revision ?? options.hub?.revision ?? 'main';
  const location = { repo: target.repo, revision, subfolder: target.subfolder };
  const freshOutput = outDir !== undefined && !existsSync(outDir);
  const fetched = await fetchForStreaming(family.requests(location, false, familyOptions), { ...fetchOptions, stream: options.stream !== false });
  let snapshots = fetched.snapshots;
  const convert = async (streamed?: StreamedFetch) => {
    const views = await snapshotViews(snapshots, streamed?.isArriving);
    try {
      const [main, ...others] = views.snapshots;
      const folder = target.subfolder ? join(main.directory, ...target.subfolder.split('/')) : main.directory;
      const origin = [
        formatHubId({ repo: main.repo, revision: main.commit, subfolder: target.subfolder }),
        ...others.map((other) => formatHubId({ repo: other.repo, revision: other.commit })),
      ].join(' with ');
      const streaming = streamed?.arrivals(views.snapshots);
      const run = () => convertFolder(folder, origin, views.snapshots);
      return await (streaming ? withArrivals(streaming, run) : run());
    } finally {
      await views.dispose();
    }
  };
  let summary: Summary;
  try {
    summary = await streamedConversion(fetched, () => convert(fetched));
  } catch (error) {
    // A streamed conversion writes graphs before the download has verified: a folder it created is removed.
    if (freshOutput && fetched.download) await rm(outDir, { recursive: true, force: true });
    if (!(error instanceof InvalidModelError) || !family.needsWider?.(error)) throw error;
    const narrow = snapshots.reduce((sum, snapshot) => sum + snapshot.files.length, 0);
    // Each repository pinned to the commit already used, so both passes read one state of it.
    const commits = new Map(snapshots.map((snapshot) => [snapshot.repo, snapshot.commit]));
    const requests = family.requests(location, true, familyOptions).map((request) => ({ ...request, revision: commits.get(request.repo) ?? request.revision }));
    const wider = await fetchHubFiles(requests, fetchOptions);
    if (wider.reduce((sum, snapshot) => sum + snapshot.files.length, 0) === narrow) throw error;
    snapshots = wider;
    return { summary: await convert(), snapshots };
  }
  return { summary, snapshots };
}

/**
 * Runs the conversion beside the download: the download's failure wins over the conversion's (a
 * reader that hit it reports it too), a failed conversion stops the download (its partial files
 * stay, resumable), and the refs are recorded only once every file verified.
 */
async function streamedConversion<Summary>(fetched: StreamedFetch, convert: () => Promise<Summary>): Promise<Summary> {
  const { download } = fetched;
  let summary: Summary;
  try {
    summary = await convert();
  } catch (error) {
    if (!download) throw error;
    // The download's own failure is the cause when there is one (a reader may have stumbled on
    // its bytes first); otherwise the conversion failed by itself and the download is stopped.
    const downloadError = download.failure();
    await download.stop();
    throw downloadError ?? error;
  }
  await download?.finished;
  await fetched.writeRefs();
  return summary;
}
