import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import type { CacheFileContext, ModelCache } from '../../core/cache/model-cache.js';
import { blobIdOf, type HubSnapshot } from '../../core/hub/hub-files.js';
import { formatHubId } from '../../core/hub/hub-id.js';
import type { OpenFileStream } from '../../core/sources/file-stream.js';
import { FileVerifier } from '../../core/sources/file-verifier.js';
import { MANIFEST_FILE } from '../../core/sources/model-source.js';
import type { ResolvedFile } from '../../core/sources/resolved-file.js';
import { HubError } from '../../errors/hub-error.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import { cacheWrite } from '../cache-fs-error.js';
import { createNodeSha256 } from '../node-sha256.js';
import { verifyFileInPlace } from '../verify-file-in-place.js';
import type { BlobVerifications } from './blob-verification.js';
import { downloadBlob } from './hf-blob-download.js';
import type { HfRepoCache } from './hf-repo-cache.js';

export interface HfModelCacheOptions {
  readonly repo: HfRepoCache;
  readonly commit: string;
  readonly subfolder: string;
  /** The repository's files at `commit` (sizes, blob ids), fetched only when something must be downloaded. */
  readonly listing: () => Promise<HubSnapshot>;
  /** Records of blobs already hashed (see BlobVerifications). */
  readonly verifications: BlobVerifications;
}

/**
 * A converted model published on the Hub, kept in the standard Hugging Face cache: files are
 * delivered as paths under `snapshots/<commit>/<folder>/` (links into `blobs/`), so a graph finds
 * its external data beside it and Python sees the same files. Verification is against the
 * manifest's sha256: each blob is hashed once (when unipic downloads it, or the first time it
 * uses one Python wrote) and then trusted, in `fast` mode, from a record kept under unipic's own
 * cache while its size and mtime are unchanged; `verify: 'full'` hashes on every load.
 */
export class HfModelCache implements ModelCache {
  readonly description: string;
  private listingPromise: Promise<HubSnapshot> | undefined;

  constructor(private readonly options: HfModelCacheOptions) {
    this.description = `${options.repo.directory} (${formatHubId({ repo: options.repo.repo, revision: options.commit, subfolder: options.subfolder })})`;
  }

  private repoPath(path: string): string {
    return this.options.subfolder ? `${this.options.subfolder}/${path}` : path;
  }

  private listing(): Promise<HubSnapshot> {
    this.listingPromise ??= this.options.listing();
    return this.listingPromise;
  }

  private async listed(path: string) {
    const file = (await this.listing()).files.find((candidate) => candidate.path === this.repoPath(path));
    const { repo, commit } = this.options;
    if (!file) {
      throw new HubError('HUB_ENTRY_NOT_FOUND', `hf:${repo.repo}@${commit} has no file ${this.repoPath(path)}`, {
        details: { repo: repo.repo, revision: commit, missing: [this.repoPath(path)] },
      });
    }
    const blobId = blobIdOf(file);
    if (!blobId) {
      throw new InvalidModelError(`the Hub's listing gives no hash for ${this.repoPath(path)} in hf:${repo.repo}@${commit}, so it cannot be cached by content`, {
        details: { repo: repo.repo, revision: commit, path: this.repoPath(path) },
      });
    }
    return { file, blobId };
  }

  async readManifest(): Promise<string | undefined> {
    return readFile(this.options.repo.snapshotFile(this.options.commit, this.repoPath(MANIFEST_FILE)), 'utf8').catch(() => undefined);
  }

  async writeManifest(text: string): Promise<void> {
    const { file, blobId } = await this.listed(MANIFEST_FILE);
    const bytes = Buffer.from(text);
    const actual = file.sha256
      ? createHash('sha256').update(bytes).digest('hex')
      : createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
    if (actual !== blobId || bytes.byteLength !== file.size) {
      throw new IntegrityError(`${this.repoPath(MANIFEST_FILE)} from the Hub does not match the hash the Hub lists for it`, {
        details: { path: this.repoPath(MANIFEST_FILE), expectedSize: file.size, actualSize: bytes.byteLength },
      });
    }
    const { repo, commit } = this.options;
    const blob = repo.blobFile(blobId);
    await cacheWrite(repo.directory, async () => {
      await mkdir(dirname(blob), { recursive: true });
      const temporary = `${repo.incompleteFile(blobId)}.${process.pid}`;
      await writeFile(temporary, bytes);
      await rename(temporary, blob);
    });
    await repo.link(commit, this.repoPath(MANIFEST_FILE), blobId);
  }

  async lookup(entry: FileEntry, context: CacheFileContext): Promise<ResolvedFile | undefined> {
    const { repo, commit } = this.options;
    const path = repo.snapshotFile(commit, this.repoPath(entry.path));
    const info = await stat(path).catch(() => undefined);
    if (!info) return undefined;
    const linked = await repo.linkedBlobId(commit, this.repoPath(entry.path));
    const hit: ResolvedFile = { kind: 'path', entry, path };
    if (!info.isFile() || info.size !== entry.size) {
      await repo.unlink(commit, this.repoPath(entry.path));
      return undefined;
    }
    const blob = linked ? repo.blobFile(linked) : path;
    if (context.verify === 'fast' && (await this.options.verifications.isVerified(blob, entry.sha256))) {
      context.onBytes('cache-read', entry.size);
      return hit;
    }
    if (!(await verifyFileInPlace(path, new FileVerifier(entry, createNodeSha256), context.onBytes, context.signal))) {
      await this.delete(entry.path);
      return undefined;
    }
    await this.options.verifications.record(blob, entry.sha256);
    return hit;
  }

  async store(entry: FileEntry, open: OpenFileStream, context: CacheFileContext): Promise<ResolvedFile> {
    const { file, blobId } = await this.listed(entry.path);
    if (file.size !== entry.size || (file.sha256 !== undefined && file.sha256 !== entry.sha256)) {
      throw new IntegrityError(
        `${this.repoPath(entry.path)} in hf:${this.options.repo.repo}@${this.options.commit} is not the file unipic.json lists (size or sha256 differ)`,
        {
          details: {
            path: entry.path,
            expectedSize: entry.size,
            actualSize: file.size,
            expectedSha256: entry.sha256,
            ...(file.sha256 ? { actualSha256: file.sha256 } : {}),
          },
        },
      );
    }
    const { repo, commit } = this.options;
    const downloaded = await downloadBlob(
      repo,
      blobId,
      entry.size,
      new FileVerifier(entry, createNodeSha256),
      open,
      (bytes) => context.onBytes('download', bytes),
      context.signal,
    );
    // Hashed against the manifest as it arrived: recorded, so the lookup below need not read it again.
    if (downloaded) await this.options.verifications.record(repo.blobFile(blobId), entry.sha256);
    await repo.link(commit, this.repoPath(entry.path), blobId);
    // A blob that was already there (another snapshot's, or Python's) is checked like a hit.
    const hit = await this.lookup(entry, context);
    if (!hit) throw new IntegrityError(`${entry.path}: the cached blob ${blobId} does not match the manifest`, { details: { path: entry.path } });
    return hit;
  }

  async has(entry: FileEntry): Promise<boolean> {
    const { repo, commit } = this.options;
    if ((await repo.snapshotSize(commit, this.repoPath(entry.path))) !== entry.size) return false;
    const linked = await repo.linkedBlobId(commit, this.repoPath(entry.path));
    return this.options.verifications.isVerified(linked ? repo.blobFile(linked) : repo.snapshotFile(commit, this.repoPath(entry.path)), entry.sha256);
  }

  /** Remove the file's snapshot link and its blob (Python downloads it again if it needs it). */
  async delete(path: string): Promise<void> {
    const { repo, commit } = this.options;
    const blobId = await repo.linkedBlobId(commit, this.repoPath(path));
    await repo.unlink(commit, this.repoPath(path));
    if (blobId) await rm(repo.blobFile(blobId), { force: true });
  }

  /** Remove this model's files (its folder of the snapshot, and their blobs). */
  async clear(): Promise<void> {
    const { repo, commit, subfolder } = this.options;
    const prefix = subfolder ? `${subfolder}/` : '';
    for (const file of await repo.listSnapshot(commit, subfolder)) await this.delete(file.path.slice(prefix.length));
  }
}
