import type { HubRepoFile } from '../../core/hub/hub-files.js';
import type { SerializedUniPicError } from '../../errors/unipic-error.js';
import type { LoadPhase } from '../../spec/progress.js';

/** One file the download worker fetches while the converter reads it. */
export interface StreamedFile {
  readonly cacheRoot: string;
  readonly repo: string;
  readonly commit: string;
  readonly file: HubRepoFile;
  readonly label: string;
  /** Its header is fetched first (safetensors), so the converter can open it before it is complete. */
  readonly safetensors: boolean;
}

/** Worker → main thread. */
export type WorkerMessage =
  | { readonly type: 'bytes'; readonly index: number; readonly phase: LoadPhase; readonly bytes: number }
  | { readonly type: 'file-done'; readonly index: number; readonly phase: LoadPhase }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly index: number; readonly error: { readonly unipic: SerializedUniPicError } | { readonly message: string } };

export const FILE_PENDING = 0;
/** Its `.incomplete` exists and holds `bytes` bytes. */
export const FILE_WRITING = 1;
/** Verified, renamed onto its blob and linked into the snapshot. */
export const FILE_DONE = 2;
export const FILE_FAILED = 3;

const CONTROL = 2;

/**
 * Per-file state and bytes on disk, in shared memory: the worker publishes, the main thread's
 * readers block on it with `Atomics.wait` (they read synchronously, so they cannot await a message).
 * Layout: Int32 [generation, failed], Int32 state per file, then (8-byte aligned) BigInt64 bytes per file.
 */
export class SharedArrivals {
  private readonly control: Int32Array;
  private readonly states: Int32Array;
  private readonly bytes: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    const count = SharedArrivals.countOf(buffer);
    this.control = new Int32Array(buffer, 0, CONTROL);
    this.states = new Int32Array(buffer, CONTROL * 4, count);
    this.bytes = new BigInt64Array(buffer, SharedArrivals.bytesOffset(count), count);
  }

  static create(count: number): SharedArrivals {
    const buffer = new SharedArrayBuffer(SharedArrivals.bytesOffset(count) + count * 8 + 8);
    new Int32Array(buffer, buffer.byteLength - 8, 1)[0] = count;
    return new SharedArrivals(buffer);
  }

  private static countOf(buffer: SharedArrayBuffer): number {
    return new Int32Array(buffer, buffer.byteLength - 8, 1)[0] ?? 0;
  }

  private static bytesOffset(count: number): number {
    return Math.ceil(((CONTROL + count) * 4) / 8) * 8;
  }

  state(index: number): number {
    return Atomics.load(this.states, index);
  }

  bytesOnDisk(index: number): number {
    return Number(Atomics.load(this.bytes, index));
  }

  /** Whether the download failed (or was stopped). */
  get failed(): boolean {
    return Atomics.load(this.control, 1) !== 0;
  }

  publish(index: number, state: number, bytes: number): void {
    Atomics.store(this.bytes, index, BigInt(bytes));
    Atomics.store(this.states, index, state);
    this.wake();
  }

  /** The download failed at file `index`. */
  fail(index: number): void {
    Atomics.store(this.states, index, FILE_FAILED);
    this.stop();
  }

  /** No more bytes will come (failed, or stopped by the main thread): every wait ends. */
  stop(): void {
    Atomics.store(this.control, 1, 1);
    this.wake();
  }

  /** Blocks the calling thread until something changes (or a second passes). */
  waitForChange(seen: number): void {
    Atomics.wait(this.control, 0, seen, 1000);
  }

  get generation(): number {
    return Atomics.load(this.control, 0);
  }

  private wake(): void {
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
  }
}
