import { throwIfAborted } from '../../errors/abort-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { FileEntry, Manifest } from '../../spec/manifest.js';
import type { LoadPhase, LoadProgressCallback } from '../../spec/progress.js';
import type { ModelCache } from '../cache/model-cache.js';
import { openFileStream, type OpenFileStream } from './file-stream.js';
import type { HashFactory } from './incremental-hash.js';
import { LoadProgress, type FileProgress } from './load-progress.js';
import { downloadToMemory } from './memory-download.js';
import type { DeliveryPreference, ModelSource, VerifyMode } from './model-source.js';
import type { NetworkOptions } from './network-options.js';
import { ResolvedFiles, type ResolvedFile } from './resolved-file.js';
import { selectFiles, type FileSelection } from './select-files.js';

export interface ModelFilesSettings {
  readonly source: ModelSource;
  readonly cache?: ModelCache;
  readonly createHash: HashFactory;
  readonly offline: boolean;
  readonly verify: VerifyMode;
  readonly prefer: DeliveryPreference;
  readonly network: NetworkOptions;
}

export interface ResolveOptions {
  readonly onProgress?: LoadProgressCallback;
  readonly signal?: AbortSignal;
}

/**
 * A model whose manifest is read and validated; hands out its files on demand. Each file comes
 * from the first place that has it: the source itself when local (a folder, user bytes), else a
 * verified cache entry, else the network (into the cache, or into memory when there is none).
 */
export class ModelFiles {
  private readonly entries: ReadonlyMap<string, FileEntry>;

  constructor(
    readonly manifest: Manifest,
    private readonly settings: ModelFilesSettings,
  ) {
    this.entries = new Map(manifest.files.map((entry) => [entry.path, entry]));
  }

  get source(): ModelSource {
    return this.settings.source;
  }

  get cache(): ModelCache | undefined {
    return this.settings.cache;
  }

  entry(path: string): FileEntry {
    const entry = this.entries.get(path);
    if (!entry) throw new InvalidModelError(`${path} is not listed in the files of ${this.manifest.name}'s unipic.json`);
    return entry;
  }

  /** Manifest paths a capability/dtype/size selection needs (see `selectFiles`). */
  filesFor(selection: FileSelection): string[] {
    return selectFiles(this.manifest, selection);
  }

  /** Whether every path is cached as verified (or local), so an offline load would succeed. */
  async isAvailableOffline(paths: readonly string[]): Promise<boolean> {
    for (const path of paths) {
      const entry = this.entry(path);
      if (!this.settings.source.isRemote(path)) continue;
      if (!(await this.settings.cache?.has(entry))) return false;
    }
    return true;
  }

  /**
   * Make `paths` present and verified, one file after another, reporting progress with `total`
   * fixed before the first byte. On failure, object URLs already handed out are revoked.
   */
  async resolve(paths: readonly string[], options: ResolveOptions = {}): Promise<ResolvedFiles> {
    const entries = [...new Set(paths)].map((path) => this.entry(path));
    const progress = new LoadProgress(entries, options.onProgress);
    const resolved: ResolvedFile[] = [];
    try {
      for (const entry of entries) {
        throwIfAborted(options.signal);
        const file = progress.begin(entry);
        resolved.push(await this.resolveOne(entry, file, options.signal));
        file.complete('cache-read');
      }
    } catch (error) {
      new ResolvedFiles(resolved).release();
      throw error;
    }
    return new ResolvedFiles(resolved);
  }

  private async resolveOne(entry: FileEntry, progress: FileProgress, signal: AbortSignal | undefined): Promise<ResolvedFile> {
    const { source, cache, createHash, verify, prefer, offline, network } = this.settings;
    const report = (phase: LoadPhase) => (fileLoaded: number) => progress.report(phase, fileLoaded);
    const local = await source.readLocal?.(entry, {
      verify,
      prefer,
      createHash,
      onBytes: report('cache-read'),
      ...(signal ? { signal } : {}),
    });
    if (local) return local;
    const cacheContext = {
      verify,
      onBytes: (phase: 'download' | 'cache-read', fileLoaded: number) => progress.report(phase, fileLoaded),
      ...(signal ? { signal } : {}),
    };
    const hit = await cache?.lookup(entry, cacheContext);
    if (hit) return hit;
    if (offline && source.isRemote(entry.path)) {
      throw new ModelNotFoundError(
        `${entry.path} is not in the cache${cache ? ` (${cache.description})` : ''} and offline is set, so ${source.description} was not contacted`,
        { details: { path: entry.path, reason: 'offline' } },
      );
    }
    const open: OpenFileStream = (offset, validator) =>
      openFileStream(source, entry, {
        offset,
        network,
        ...(validator !== undefined ? { validator } : {}),
        ...(signal ? { signal } : {}),
      });
    if (cache) return cache.store(entry, open, cacheContext);
    return downloadToMemory(entry, open, createHash, report('download'));
  }
}
