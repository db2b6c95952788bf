import type { FileEntry } from '../../spec/manifest.js';
import type { OpenFileStream } from '../sources/file-stream.js';
import type { VerifyMode } from '../sources/model-source.js';
import type { ResolvedFile } from '../sources/resolved-file.js';

export interface CacheFileContext {
  readonly signal?: AbortSignal;
  readonly verify: VerifyMode;
  /** This file's bytes so far: `cache-read` while checking a hit, `download` while storing. */
  onBytes(phase: 'download' | 'cache-read', fileLoaded: number): void;
}

/**
 * A persistent store of one model's files (the Node disk cache, the browser Cache API). It owns
 * verification of what it stores: nothing reaches the place a later `lookup` reads from unless its
 * size and sha256 match the manifest entry.
 */
export interface ModelCache {
  /** Where the cache lives, for messages. */
  readonly description: string;
  /** The cached `unipic.json` text, if any. */
  readManifest(): Promise<string | undefined>;
  writeManifest(text: string): Promise<void>;
  /** The file if a valid copy is cached; a stale or corrupt copy is removed and `undefined` returned. */
  lookup(entry: FileEntry, context: CacheFileContext): Promise<ResolvedFile | undefined>;
  /** Fetch the file through `open`, verify it, keep it, and return it as `lookup` would. */
  store(entry: FileEntry, open: OpenFileStream, context: CacheFileContext): Promise<ResolvedFile>;
  /** Whether a copy recorded as verified is present, without reading it. */
  has(entry: FileEntry): Promise<boolean>;
  /** Remove one cached file (and its records); a later load fetches it again. */
  delete(path: string): Promise<void>;
  /** Remove this model's cached files, manifest and bookkeeping. */
  clear(): Promise<void>;
}
