import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { Manifest } from '../../spec/manifest.js';
import type { ModelCache } from '../cache/model-cache.js';
import { ModelFiles, type ModelFilesSettings } from './model-files.js';
import { MANIFEST_FILE, type ModelSource } from './model-source.js';
import { looksLikeHtml, manifestLocation, noModelAt } from './no-model-here.js';
import { parseManifest } from './parse-manifest.js';
import { readSmallFile } from './read-small-file.js';

/** A manifest is a few kilobytes; anything past this is not one. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface OpenModelFilesOptions extends ModelFilesSettings {
  /**
   * Fetch `unipic.json` again even when a cached copy exists. Off by default: a cached model loads
   * without any request (and offline); turn it on to pick up a model republished at the same URL.
   */
  readonly revalidate: boolean;
  readonly signal?: AbortSignal;
}

/** Read and validate the manifest (cache first unless revalidating), then hand out files. */
export async function openModelFiles(options: OpenModelFilesOptions): Promise<ModelFiles> {
  const manifest = await loadManifest(options.source, options.cache, options);
  return new ModelFiles(manifest, options);
}

async function loadManifest(source: ModelSource, cache: ModelCache | undefined, options: OpenModelFilesOptions): Promise<Manifest> {
  const cachedText = cache && (!options.revalidate || options.offline) ? await cache.readManifest() : undefined;
  if (cachedText !== undefined) {
    try {
      return parseManifest(cachedText, `${cache?.description}`);
    } catch (error) {
      // A damaged cached manifest is replaced from the source when the source may be contacted.
      if (options.offline || !(error instanceof InvalidModelError)) throw error;
    }
  }
  if (options.offline && source.isRemote(MANIFEST_FILE)) {
    throw new ModelNotFoundError(`No cached unipic.json for ${source.description} and offline is set, so it was not contacted`, {
      details: { path: MANIFEST_FILE, reason: 'offline' },
    });
  }
  const bytes = await readSmallFile(source, MANIFEST_FILE, {
    network: options.network,
    maxBytes: MAX_MANIFEST_BYTES,
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    const status = error instanceof ModelNotFoundError ? (error.details as { status?: number } | undefined)?.status : undefined;
    if (source.kind === 'url' && (status === 404 || status === 410)) {
      throw noModelAt(source, `${manifestLocation(source)} does not exist (HTTP ${status})`, error);
    }
    throw error;
  });
  const text = new TextDecoder().decode(bytes);
  if (looksLikeHtml(text)) {
    throw noModelAt(source, `${manifestLocation(source)} is a web page, not a unipic manifest (a single-page-app server answers its index.html for any path)`);
  }
  const manifest = parseManifest(text, source.description);
  await cache?.writeManifest(text);
  return manifest;
}
