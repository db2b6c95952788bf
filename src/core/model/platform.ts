import type { Backend } from '../../spec/backend.js';
import type { Manifest } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import type { ResolvedFile, ResolvedFiles } from '../sources/resolved-file.js';
import type { SourceOptions } from '../sources/source-options.js';

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
