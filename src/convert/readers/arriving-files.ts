import { AsyncLocalStorage } from 'node:async_hooks';
import { openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * A checkpoint file still downloading while the converter reads it (an `hf:` conversion streams its
 * weights: docs/loading.md, "Streaming into the converter"). Every wait is synchronous
 * (`Atomics.wait`): the download runs in a worker thread, and graph builders read synchronously.
 */
export interface ArrivingFile {
  /** The file's size once complete (the Hub's listing): what readers must see instead of the bytes so far. */
  readonly size: number;
  /** What to open now: the download's `.incomplete` file while it grows, the snapshot's file once complete. Waits for the first byte. */
  openPath(): string;
  /** Blocks until the file holds its first `end` bytes; throws the download's error if it failed. */
  waitFor(end: number): void;
  /** Blocks until the file is complete and verified (zip archives keep their directory at the end). */
  waitWhole(): void;
}

/** The files of one conversion that are still arriving, by the paths the converter opens. */
export interface Arrivals {
  lookup(absolutePath: string): ArrivingFile | undefined;
  /** Settles once every arriving file is complete and verified, or with the download's error. */
  settled(): Promise<void>;
}

const current = new AsyncLocalStorage<Arrivals>();

/** Runs `convert` with the readers waiting on `arrivals` for the files it lists. */
export function withArrivals<T>(arrivals: Arrivals, convert: () => Promise<T>): Promise<T> {
  return current.run(arrivals, convert);
}

function arriving(path: string): ArrivingFile | undefined {
  return current.getStore()?.lookup(resolve(path));
}

/** Opens a checkpoint file for reading, the download's partial file while it is still arriving. */
export async function openCheckpointFile(path: string): Promise<FileHandle> {
  const file = arriving(path);
  if (!file) return open(path, 'r');
  for (;;) {
    const target = file.openPath();
    try {
      return await open(target, 'r');
    } catch (error) {
      // The download finished between the answer and the open: the partial file was renamed.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !target.endsWith('.incomplete')) throw error;
    }
  }
}

/** `openCheckpointFile` for the synchronous readers. */
export function openCheckpointFileSync(path: string): number {
  const file = arriving(path);
  if (!file) return openSync(path, 'r');
  for (;;) {
    const target = file.openPath();
    try {
      return openSync(target, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !target.endsWith('.incomplete')) throw error;
    }
  }
}

/** The size a reader checks its offsets against: the complete file's, even while it arrives. */
export function checkpointFileSize(path: string, onDisk: number): number {
  return arriving(path)?.size ?? onDisk;
}

/** Blocks until bytes `[0, end)` of `path` are on disk (no-op for a file not arriving). */
export function awaitCheckpointBytes(path: string, end: number): void {
  arriving(path)?.waitFor(end);
}

/** Blocks until `path` is complete and verified (no-op for a file not arriving). */
export function awaitWholeCheckpointFile(path: string): void {
  arriving(path)?.waitWhole();
}

/**
 * Waits, before a conversion publishes its `unipic.json`, until every streamed file has arrived and
 * matched the Hub's hash: bytes the converter read early are only trusted once their file verified.
 */
export async function awaitArrivals(): Promise<void> {
  await current.getStore()?.settled();
}
