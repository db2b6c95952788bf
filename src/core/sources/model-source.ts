import type { FileEntry } from '../../spec/manifest.js';
import type { HashFactory } from './incremental-hash.js';
import type { ResolvedFile } from './resolved-file.js';

/** The manifest's file name at the root of every model folder. */
export const MANIFEST_FILE = 'unipic.json';

export type SourceKind = 'directory' | 'url' | 'fetch' | 'files' | 'hub';

export interface OpenRequest {
  /** First byte wanted (0 for the whole file). */
  readonly offset: number;
  /**
   * Validator (strong ETag or Last-Modified) of the copy whose first `offset` bytes the caller
   * already holds. A source that cannot prove the file is unchanged starts again from byte 0.
   */
  readonly validator?: string;
  readonly signal: AbortSignal;
}

export interface OpenedFile {
  /** `request.offset`, or 0 when the source restarted the file from its first byte. */
  readonly offset: number;
  /** Validator of what is being sent, for a later resume. */
  readonly validator?: string;
  /** The whole file's size, when the source states it (checked against the manifest). */
  readonly size?: number;
  readonly body: ReadableStream<Uint8Array>;
}

/** `verify: 'fast'` trusts sizes and recorded verifications; `'full'` hashes every file every load. */
export type VerifyMode = 'fast' | 'full';

/** The delivery a platform wants when it has a choice (Node: paths or bytes; browsers: URLs). */
export type DeliveryPreference = 'path' | 'url' | 'bytes';

export interface LocalReadContext {
  readonly signal?: AbortSignal;
  readonly verify: VerifyMode;
  readonly prefer: DeliveryPreference;
  readonly createHash: HashFactory;
  /** Bytes of this file checked so far (reported as `cache-read`). */
  onBytes(fileLoaded: number): void;
}

/**
 * Where a model's files come from. A source only reads: caching, verification and progress are
 * the resolver's job, so every source gets them the same way.
 */
export interface ModelSource {
  readonly kind: SourceKind;
  /** Where the model is, for messages (a path or URL; never credentials). */
  readonly description: string;
  /** Identity of the model for caches; a source without one is never cached. */
  readonly cacheKey?: string;
  /** Whether reading this file touches the network (`offline: true` refuses those). */
  isRemote(path: string): boolean;
  /** A byte stream of the file from `request.offset`. Final failures are `UniPicError`s. */
  open(path: string, request: OpenRequest): Promise<OpenedFile>;
  /**
   * Files the source already holds locally (a folder on disk, user bytes) are delivered directly,
   * with no copy. `undefined` means "not local: open() it".
   */
  readLocal?(entry: FileEntry, context: LocalReadContext): Promise<ResolvedFile | undefined>;
}

export function isModelSource(value: unknown): value is ModelSource {
  return typeof value === 'object' && value !== null && typeof (value as ModelSource).open === 'function' && typeof (value as ModelSource).isRemote === 'function';
}

/** Manifest paths are `/`-separated; each segment is encoded so `#`, `?` or `%` stay literal. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
