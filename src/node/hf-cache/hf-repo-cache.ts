import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { isCommitHash, isSafeRevision } from '../../core/hub/hub-id.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import type { HubRepoFile } from '../../core/hub/hub-files.js';
import { cacheWrite } from '../cache-fs-error.js';

/**
 * One repository in the Hugging Face cache, in the layout Python's huggingface_hub writes, so
 * either tool reuses what the other downloaded:
 *
 * ```
 * <root>/models--{org}--{name}/
 *   refs/<revision>                  the commit the branch or tag pointed to (no newline)
 *   blobs/<etag>                     file bytes, named by the Hub's ETag: LFS sha256, else git sha1
 *   blobs/<etag>.incomplete          a download in progress (resumed with a Range request)
 *   snapshots/<commit>/<path>        relative symlink to ../../blobs/<etag>
 * ```
 */
export class HfRepoCache {
  readonly directory: string;

  constructor(
    readonly root: string,
    readonly repo: string,
  ) {
    this.directory = join(root, `models--${repo.split('/').join('--')}`);
  }

  snapshotDirectory(commit: string): string {
    return join(this.directory, 'snapshots', commit);
  }

  snapshotFile(commit: string, path: string): string {
    return join(this.snapshotDirectory(commit), ...path.split('/'));
  }

  blobFile(blobId: string): string {
    return join(this.directory, 'blobs', blobId);
  }

  incompleteFile(blobId: string): string {
    return `${this.blobFile(blobId)}.incomplete`;
  }

  private refPath(revision: string): string {
    if (!isSafeRevision(revision)) {
      throw new InvalidOptionsError(`"${revision}" is not a revision name`, { details: { issues: [{ path: 'revision', message: 'not a revision name' }] } });
    }
    return join(this.directory, 'refs', ...revision.split('/'));
  }

  /** The commit of `revision`: itself when it is one, else `refs/<revision>` if recorded. */
  async readRef(revision: string): Promise<string | undefined> {
    if (isCommitHash(revision)) return revision;
    const text = await readFile(this.refPath(revision), 'utf8').catch(() => undefined);
    const commit = text?.trim();
    return commit && isCommitHash(commit) ? commit : undefined;
  }

  /** Record what `revision` points to (not for commits, as huggingface_hub does). */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = this.refPath(revision);
    if ((await readFile(path, 'utf8').catch(() => undefined)) === commit) return;
    await cacheWrite(this.directory, async () => {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, commit);
      await rename(temporary, path);
    });
  }

  /** Size of the snapshot's file (following its link), or undefined when absent or dangling. */
  async snapshotSize(commit: string, path: string): Promise<number | undefined> {
    const info = await stat(this.snapshotFile(commit, path)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }

  /** The blob a snapshot file links to (its name), when it is a link into `blobs/`. */
  async linkedBlobId(commit: string, path: string): Promise<string | undefined> {
    const target = await readlink(this.snapshotFile(commit, path)).catch(() => undefined);
    return target === undefined ? undefined : basename(target);
  }

  async blobSize(blobId: string): Promise<number | undefined> {
    const info = await stat(this.blobFile(blobId)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }

  /** Point `snapshots/<commit>/<path>` at the blob with a relative link, replacing what was there. */
  async link(commit: string, path: string, blobId: string): Promise<void> {
    const file = this.snapshotFile(commit, path);
    await cacheWrite(this.directory, async () => {
      await mkdir(dirname(file), { recursive: true });
      const target = relative(dirname(file), this.blobFile(blobId));
      if ((await readlink(file).catch(() => undefined)) === target) return;
      await rm(file, { force: true });
      await symlink(target, file);
    });
  }

  /** Remove a snapshot's link (and the blob when nothing else may use it: left to `prune`). */
  async unlink(commit: string, path: string): Promise<void> {
    await rm(this.snapshotFile(commit, path), { force: true });
  }

  /** The files present in a snapshot folder (links followed), as a listing for offline use. */
  async listSnapshot(commit: string, subfolder = ''): Promise<HubRepoFile[]> {
    const files: HubRepoFile[] = [];
    const root = this.snapshotDirectory(commit);
    const walk = async (folder: string): Promise<void> => {
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const full = join(folder, name);
        const info = await stat(full).catch(() => undefined);
        if (info?.isDirectory()) await walk(full);
        else if (info?.isFile()) {
          const link = await lstat(full);
          const blobId = link.isSymbolicLink() ? basename(await readlink(full)) : undefined;
          const path = relative(root, full).split('\\').join('/');
          files.push({
            path,
            size: info.size,
            ...(blobId && /^[0-9a-f]{64}$/.test(blobId) ? { sha256: blobId } : {}),
            ...(blobId && /^[0-9a-f]{40}$/.test(blobId) ? { gitSha1: blobId } : {}),
          });
        }
      }
    };
    await walk(subfolder ? join(root, ...subfolder.split('/')) : root);
    return files;
  }
}
