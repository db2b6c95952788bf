import type { Backend } from '../../spec/backend.js';
import type { Manifest } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import type { ResolvedFile, ResolvedFiles } from '../sources/resolved-file.js';
import type { SourceOptions } from '../sources/source-options.js';
import type { ModelFiles } from '../sources/model-files.js';

export interface OpenModelOptions extends SourceOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: LoadProgressCallback;
}

/** A model whose manifest is read; its files are fetched/verified on demand. */
export interface OpenedModel {
  readonly manifest: Manifest;
  readonly description: string;
  /** Make the given manifest files present and verified, reporting `download`/`cache-read` progress. */
  resolve(paths: readonly string[]): Promise<ResolvedFiles>;
  /** Drop what the source holds (object URLs, open handles). */
  release?(): void;
}

/** What differs between Node and browsers: the default backend and where model files come from. */
export interface Platform {
  readonly name: 'node' | 'browser';
  createBackend(adapter?: string): Promise<Backend>;
  openModel(source: unknown, options: OpenModelOptions): Promise<OpenedModel>;
  /** The bytes of a resolved file (small files: tokenizer, tables). */
  readFile(file: ResolvedFile): Promise<Uint8Array>;
}

/** Wrap an opened `ModelFiles` as the loader sees it, with this load's progress and signal. */
export function toOpenedModel(files: ModelFiles, options: Pick<OpenModelOptions, 'signal' | 'onProgress'>): OpenedModel {
  const { signal, onProgress } = options;
  return {
    manifest: files.manifest,
    description: files.source.description,
    resolve: (paths) => files.resolve(paths, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) }),
  };
}

/** Bytes of a resolved file delivered as bytes or URL (paths need the Node platform). */
export async function readResolvedFile(file: ResolvedFile): Promise<Uint8Array | undefined> {
  if (file.kind === 'bytes') return file.bytes;
  if (file.kind === 'url') {
    const response = await fetch(file.url);
    if (!response.ok) throw new Error(`could not read ${file.entry.path} (${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  }
  return undefined;
}
