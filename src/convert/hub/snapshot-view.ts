import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FetchedSnapshot } from '../../node/hf-cache/fetch-hub-files.js';

/** Folders holding links to exactly the selected files of each snapshot; `dispose` removes them. */
export interface SnapshotViews {
  /** The snapshots with `directory` replaced by their view folder, in the same order. */
  readonly snapshots: readonly FetchedSnapshot[];
  dispose(): Promise<void>;
}

/**
 * The converter reads a view of each snapshot, not the snapshot folder itself: the HF cache is
 * shared, and a snapshot may hold files another tool downloaded (Python's `snapshot_download` of
 * the whole repository: precision variants, PyTorch copies, other folders) that a converter would
 * otherwise see, and refuse as a second set of weights or read instead of the selected ones. A
 * view is a temporary folder of links to the selected files, so a conversion from `hf:` reads
 * exactly what the family selected, whatever else the cache holds. `arriving` names the files a
 * streamed download has not finished yet.
 */
export async function snapshotViews(snapshots: readonly FetchedSnapshot[], arriving?: (snapshot: FetchedSnapshot, path: string) => boolean): Promise<SnapshotViews> {
  const root = await mkdtemp(join(tmpdir(), 'unipic-hub-view-'));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const views = await Promise.all(
      snapshots.map(async (snapshot, index) => {
        const directory = join(root, String(index));
        for (const path of snapshot.files) {
          const parts = path.split('/');
          const link = join(directory, ...parts);
          await mkdir(dirname(link), { recursive: true });
          // A file still downloading has no snapshot entry yet: an empty stand-in lets the
          // converter find it; its readers open the download itself (readers/arriving-files.ts).
          if (arriving?.(snapshot, path)) await writeFile(link, '');
          else await symlink(join(snapshot.directory, ...parts), link);
        }
        return { ...snapshot, directory };
      }),
    );
    return { snapshots: views, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
