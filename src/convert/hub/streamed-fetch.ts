import { renameSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HubFileRequest } from '../../core/hub/hub-files.js';
import { blobIdOf } from '../../core/hub/hub-files.js';
import { ensurePlannedFile, planHubFiles, type FetchedSnapshot, type FetchHubFilesOptions } from '../../node/hf-cache/fetch-hub-files.js';
import { startStreamingDownload, type StreamingDownload } from '../../node/hf-cache/streaming-download.js';
import type { Arrivals, ArrivingFile } from '../readers/arriving-files.js';

/** Checkpoint weights: fetched while the converter runs. Everything else (configs, indexes, tokenizer) comes first. */
const WEIGHT_FILE = /\.(safetensors|bin|ckpt|pt|pth)$/;

/** The snapshots of a Hub fetch whose weights may still be arriving. */
export interface StreamedFetch {
  readonly snapshots: FetchedSnapshot[];
  /** Absent when nothing streams (all cached, offline, an injected fetch). */
  readonly download?: StreamingDownload;
  /** The arriving weights, as the converter will see them through `views` (snapshot-view.ts). */
  arrivals(views: readonly FetchedSnapshot[]): Arrivals | undefined;
  /** Whether `path` of `snapshot` is still arriving (its view entry is then a stand-in). */
  isArriving(snapshot: FetchedSnapshot, path: string): boolean;
  /** Records the resolved refs: once every file is present. */
  writeRefs(): Promise<void>;
}

/**
 * `fetchHubFiles`, except that the weights not yet in the cache are left to a worker thread
 * (streaming-download.ts) and this returns as soon as the other files are present, so the
 * conversion starts while the weights download. With `offline` or an injected `fetch` (which
 * cannot cross into a worker) every file is fetched first, as `fetchHubFiles` does.
 */
export async function fetchForStreaming(requests: readonly HubFileRequest[], options: FetchHubFilesOptions & { readonly stream?: boolean }): Promise<StreamedFetch> {
  const plan = await planHubFiles(requests, options);
  const canStream = options.stream !== false && !plan.offline && options.fetch === undefined;
  const streamed: number[] = [];
  for (const [index, file] of plan.planned.entries()) {
    const blobId = blobIdOf(file.file);
    const present = blobId !== undefined && (await file.cache.blobSize(blobId)) === file.file.size;
    if (canStream && !present && blobId !== undefined && WEIGHT_FILE.test(file.file.path)) streamed.push(index);
    else await ensurePlannedFile(plan, index, file);
  }
  if (streamed.length === 0) return { snapshots: plan.snapshots, arrivals: () => undefined, isArriving: () => false, writeRefs: plan.writeRefs };
  const download = startStreamingDownload(plan, streamed);
  const arrivingKeys = new Set(streamed.map((index) => `${plan.planned[index].cache.repo}@${plan.planned[index].commit}:${plan.planned[index].file.path}`));
  return {
    snapshots: plan.snapshots,
    download,
    writeRefs: plan.writeRefs,
    isArriving: (snapshot, path) => arrivingKeys.has(`${snapshot.repo}@${snapshot.commit}:${path}`),
    arrivals: (views) => {
      const byPath = new Map<string, ArrivingFile>();
      for (const [slot, index] of streamed.entries()) {
        const planned = plan.planned[index];
        const at = plan.snapshots.findIndex((snapshot) => snapshot.repo === planned.cache.repo && snapshot.commit === planned.commit);
        const view = views[at];
        if (!view) continue;
        const path = resolve(join(view.directory, ...planned.file.path.split('/')));
        const complete = planned.cache.snapshotFile(planned.commit, planned.file.path);
        // Once complete, the view's stand-in becomes the link every other file has, so readers
        // that open paths themselves (the zip reader) see the file.
        let linked = false;
        const linkWhenDone = () => {
          if (linked || !download.isDone(slot)) return;
          symlinkSync(complete, `${path}.link`);
          renameSync(`${path}.link`, path);
          linked = true;
        };
        byPath.set(path, {
          size: planned.file.size,
          openPath: () => {
            download.waitFor(slot, 1);
            linkWhenDone();
            return linked ? complete : download.incompletePath(slot);
          },
          waitFor: (end) => {
            download.waitFor(slot, end);
            linkWhenDone();
          },
          waitWhole: () => {
            download.waitDone(slot);
            linkWhenDone();
          },
        });
      }
      return { lookup: (absolutePath) => byPath.get(absolutePath), settled: () => download.finished };
    },
  };
}
