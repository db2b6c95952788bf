import { throwIfAborted } from '../../errors/abort-error.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import { FileVerifier } from './file-verifier.js';
import { openWithFetch, type FetchFunction } from './fetch-source.js';
import { fetchFollowingRedirects } from './redirecting-fetch.js';
import type { LocalReadContext, ModelSource, OpenRequest, OpenedFile } from './model-source.js';
import type { ResolvedFile } from './resolved-file.js';
import { streamChunks } from './stream-chunks.js';

/**
 * Model files the application already has: bytes, Blobs (a `<input type=file>`, an IndexedDB
 * record) or URL strings (absolute, or relative to the page). Must include `unipic.json`.
 */
export type FileMap = Readonly<Record<string, Uint8Array | Blob | string>>;

export interface FileMapSourceOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly maxRedirects?: number;
  readonly fetch?: typeof fetch;
}

export function createFileMapSource(files: FileMap, options: FileMapSourceOptions = {}): ModelSource {
  const lookup = (path: string) => {
    const value = Object.hasOwn(files, path) ? files[path] : undefined;
    if (value === undefined) {
      throw new ModelNotFoundError(`${path} is not in the supplied file map`, { details: { path } });
    }
    return value;
  };
  return {
    kind: 'files',
    description: 'the supplied file map',
    isRemote: (path) => typeof files[path] === 'string',
    open: async (path, request) => {
      const value = lookup(path);
      if (typeof value === 'string') return openUrl(value, path, request, options);
      const blob = value instanceof Uint8Array ? new Blob([value as Uint8Array<ArrayBuffer>]) : value;
      const offset = Math.min(request.offset, blob.size);
      return { offset, size: blob.size, body: blob.slice(offset).stream() };
    },
    readLocal: async (entry, context) => {
      const value = lookup(entry.path);
      if (typeof value === 'string') return undefined;
      return readHeld(entry, value, context);
    },
  };
}

async function readHeld(entry: FileEntry, value: Uint8Array | Blob, context: LocalReadContext): Promise<ResolvedFile> {
  const size = value instanceof Uint8Array ? value.byteLength : value.size;
  if (size !== entry.size) {
    throw new IntegrityError(`${entry.path}: the supplied file has ${size} bytes, the manifest lists ${entry.size}`, {
      details: { path: entry.path, expectedSize: entry.size, actualSize: size },
    });
  }
  if (context.verify === 'full') {
    const verifier = new FileVerifier(entry, context.createHash);
    const stream = value instanceof Uint8Array ? [value] : streamChunks(value.stream());
    for await (const chunk of stream) {
      throwIfAborted(context.signal);
      verifier.update(chunk);
      context.onBytes(verifier.bytes);
    }
    verifier.assertComplete();
  }
  if (value instanceof Uint8Array) return { kind: 'bytes', entry, bytes: value };
  if (context.prefer === 'url' && typeof URL.createObjectURL === 'function') {
    const url = URL.createObjectURL(value);
    return { kind: 'url', entry, url, release: () => URL.revokeObjectURL(url) };
  }
  return { kind: 'bytes', entry, bytes: new Uint8Array(await value.arrayBuffer()) };
}

function openUrl(value: string, path: string, request: OpenRequest, options: FileMapSourceOptions): Promise<OpenedFile> {
  const url = new URL(value, (globalThis as { location?: { href: string } }).location?.href).href;
  const fetchImplementation = options.fetch ?? globalThis.fetch.bind(globalThis);
  const fetchFile: FetchFunction = (_path, init) => fetchFollowingRedirects(fetchImplementation, url, init, options.maxRedirects ?? 10);
  return openWithFetch(fetchFile, path, `${path} (supplied as a URL)`, request, options.headers ?? {});
}
