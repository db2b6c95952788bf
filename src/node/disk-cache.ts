import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheFileContext, ModelCache } from '../core/cache/model-cache.js';
import type { OpenFileStream } from '../core/sources/file-stream.js';
import { verifyFileInPlace } from './verify-file-in-place.js';
import { FileVerifier } from '../core/sources/file-verifier.js';
import type { HashFactory } from '../core/sources/incremental-hash.js';
import type { ResolvedFile } from '../core/sources/resolved-file.js';
import type { FileEntry } from '../spec/manifest.js';
import { cacheWrite } from './cache-fs-error.js';
import { BOOKKEEPING_FOLDER, cachedFilePaths, modelCacheDirectory, type CachedFilePaths } from './disk-cache-layout.js';
import { downloadIntoCache } from './disk-download.js';
import { createNodeSha256 } from './node-sha256.js';
import { recordMatches, writeRecord } from './verification-record.js';

export interface DiskCacheOptions {
  /** The cache root (see `defaultCacheDir`); this model gets `<root>/<url-hash>/`. */
  readonly root: string;
  /** The model's identity, normally its base URL. */
  readonly key: string;
  readonly createHash?: HashFactory;
}

/** Transfers of one file by two loads in this process would write the same partial; one waits. */
const transfersInFlight = new Map<string, Promise<unknown>>();

/**
 * The Node disk cache of one remote model. Files are kept at their manifest paths (delivered as
 * paths, so ONNX Runtime maps them); a file is only ever there once verified.
 */
export class DiskCache implements ModelCache {
  readonly directory: string;
  readonly description: string;
  private readonly createHash: HashFactory;

  constructor(options: DiskCacheOptions) {
    this.directory = modelCacheDirectory(options.root, options.key);
    this.description = this.directory;
    this.createHash = options.createHash ?? createNodeSha256;
  }

  private get manifestPath(): string {
    return join(this.directory, 'unipic.json');
  }

  async readManifest(): Promise<string | undefined> {
    return readFile(this.manifestPath, 'utf8').catch(() => undefined);
  }

  async writeManifest(text: string): Promise<void> {
    const bookkeeping = join(this.directory, BOOKKEEPING_FOLDER);
    const temporary = join(bookkeeping, `unipic.json.${process.pid}.${Date.now()}.tmp`);
    await cacheWrite(this.directory, async () => {
      await mkdir(bookkeeping, { recursive: true });
      await writeFile(temporary, text);
      await rename(temporary, this.manifestPath);
    });
  }

  async lookup(entry: FileEntry, context: CacheFileContext): Promise<ResolvedFile | undefined> {
    const paths = cachedFilePaths(this.directory, entry.path);
    const info = await stat(paths.file).catch(() => undefined);
    if (!info) return undefined;
    const hit: ResolvedFile = { kind: 'path', entry, path: paths.file };
    if (!info.isFile() || info.size !== entry.size) {
      await this.discard(paths);
      return undefined;
    }
    if (context.verify === 'fast' && (await recordMatches(paths.verified, entry, info))) {
      context.onBytes('cache-read', entry.size);
      return hit;
    }
    if (!(await verifyFileInPlace(paths.file, new FileVerifier(entry, this.createHash), context.onBytes, context.signal))) {
      await this.discard(paths);
      return undefined;
    }
    await writeRecord(paths.verified, paths.file, entry);
    return hit;
  }

  async store(entry: FileEntry, open: OpenFileStream, context: CacheFileContext): Promise<ResolvedFile> {
    const paths = cachedFilePaths(this.directory, entry.path);
    for (let running = transfersInFlight.get(paths.file); running; running = transfersInFlight.get(paths.file)) {
      await running.catch(() => undefined);
      const hit = await this.lookup(entry, context);
      if (hit) return hit;
    }
    const transfer = downloadIntoCache(paths, entry, open, context, this.createHash);
    transfersInFlight.set(paths.file, transfer);
    try {
      await transfer;
    } finally {
      transfersInFlight.delete(paths.file);
    }
    return { kind: 'path', entry, path: paths.file };
  }

  async has(entry: FileEntry): Promise<boolean> {
    const paths = cachedFilePaths(this.directory, entry.path);
    const info = await stat(paths.file).catch(() => undefined);
    return info !== undefined && info.size === entry.size && (await recordMatches(paths.verified, entry, info));
  }

  async delete(path: string): Promise<void> {
    const paths = cachedFilePaths(this.directory, path);
    await this.discard(paths);
    await rm(paths.partial, { force: true });
    await rm(paths.partialInfo, { force: true });
  }

  async clear(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }

  private async discard(paths: CachedFilePaths): Promise<void> {
    await rm(paths.file, { force: true, recursive: true }).catch(() => undefined);
    await rm(paths.verified, { force: true }).catch(() => undefined);
  }
}
