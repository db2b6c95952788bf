import { receiveMessageOnPort, MessageChannel } from 'node:worker_threads';
import { startWorker } from '../start-worker.js';
import { blobIdOf } from '../../core/hub/hub-files.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { toAbortError } from '../../errors/abort-error.js';
import type { FileProgress } from '../../core/sources/load-progress.js';
import type { DownloadWorkerData } from './download-worker.js';
import type { HubFetchPlan } from './fetch-hub-files.js';
import { FILE_DONE, FILE_WRITING, SharedArrivals, type StreamedFile, type WorkerMessage } from './shared-arrivals.js';

/** A download running in a worker thread while the main thread reads the files it writes. */
export interface StreamingDownload {
  /** The `.incomplete` file of streamed file `index` (its bytes so far). */
  incompletePath(index: number): string;
  /** Blocks until streamed file `index` has `end` bytes on disk, or is complete; throws the download's error. */
  waitFor(index: number, end: number): void;
  /** Blocks until streamed file `index` is complete and verified. */
  waitDone(index: number): void;
  /** Whether streamed file `index` is complete (renamed onto its blob and linked). */
  isDone(index: number): boolean;
  /** Settles once every streamed file is verified and linked, or with the download's error. */
  readonly finished: Promise<void>;
  /** Stops the worker (a failed conversion): partial files stay for the next run to resume. */
  stop(): Promise<void>;
  /** The download's error if it has failed by now (without waiting), else undefined. */
  failure(): Error | undefined;
}

/**
 * Starts the worker (download-worker.ts) on the plan's files `indices`, in that order. Progress
 * goes to the plan's `LoadProgress` as the worker reports it (events wait while the converter holds
 * the main thread; the totals are exact). Runs from the built package (`download-worker.js` beside
 * this chunk) or from the TypeScript sources (through tsx, as the tests and benches run).
 */
export function startStreamingDownload(plan: HubFetchPlan, indices: readonly number[]): StreamingDownload {
  const files: StreamedFile[] = indices.map((index) => {
    const planned = plan.planned[index];
    return {
      cacheRoot: planned.cache.root,
      repo: planned.cache.repo,
      commit: planned.commit,
      file: planned.file,
      label: planned.label,
      safetensors: planned.file.path.endsWith('.safetensors'),
    };
  });
  const shared = SharedArrivals.create(files.length);
  const channel = new MessageChannel();
  const data: DownloadWorkerData = {
    marker: 'unipic-hub-download',
    files,
    endpoint: plan.settings.endpoint,
    ...(plan.settings.token !== undefined ? { token: plan.settings.token } : {}),
    network: plan.settings.network,
    unipicCacheDir: plan.unipicCacheDir,
    shared: shared.buffer,
    port: channel.port2,
  };
  const fromSources = import.meta.url.endsWith('.ts');
  const worker = startWorker(new URL(fromSources ? './download-worker.ts' : './download-worker.js', import.meta.url), {
    workerData: data,
    transferList: [channel.port2],
  });

  const progress = new Map<number, FileProgress>();
  const progressOf = (index: number) => {
    let file = progress.get(index);
    if (!file) {
      file = plan.progress.begin(plan.progressEntries[indices[index]]);
      progress.set(index, file);
    }
    return file;
  };
  let failure: Error | undefined;
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Nobody may be awaiting yet; the conversion reports the error through its own await.
  finished.catch(() => undefined);
  const handle = (message: WorkerMessage) => {
    if (message.type === 'bytes') progressOf(message.index).report(message.phase, message.bytes);
    else if (message.type === 'file-done') progressOf(message.index).complete(message.phase);
    else if (message.type === 'done') settle?.resolve();
    else {
      failure = 'unipic' in message.error ? UniPicError.fromJSON(message.error.unipic) : new Error(message.error.message);
      settle?.reject(failure);
    }
  };
  channel.port1.on('message', handle);
  worker.on('error', (error) => {
    failure ??= error;
    shared.stop();
    settle?.reject(failure);
  });
  worker.on('exit', () => {
    // Messages the worker posted just before it ended may still be queued behind this event.
    for (let next = receiveMessageOnPort(channel.port1); next; next = receiveMessageOnPort(channel.port1)) handle(next.message as WorkerMessage);
    channel.port1.close();
    failure ??= new Error('the download worker stopped before finishing');
    settle?.reject(failure);
  });
  const abort = () => void stop();
  plan.signal?.addEventListener('abort', abort, { once: true });
  void finished.then(
    () => plan.signal?.removeEventListener('abort', abort),
    () => plan.signal?.removeEventListener('abort', abort),
  );

  /** The error, read synchronously: the main thread may be blocked in a reader and cannot take the message event. */
  const error = (): Error => {
    // Stopped by an abort: that is the cause the caller asked for.
    if (stopped && plan.signal?.aborted) return toAbortError(plan.signal.reason);
    for (let next = receiveMessageOnPort(channel.port1); next; next = receiveMessageOnPort(channel.port1)) handle(next.message as WorkerMessage);
    return failure ?? new Error('the download stopped before this file arrived');
  };
  const waitUntil = (ready: () => boolean) => {
    for (;;) {
      const seen = shared.generation;
      if (ready()) return;
      if (shared.failed) throw error();
      shared.waitForChange(seen);
    }
  };
  let stopped = false;
  const stop = async () => {
    stopped = true;
    shared.stop();
    await worker.terminate();
  };
  return {
    incompletePath: (index) => {
      const planned = plan.planned[indices[index]];
      return planned.cache.incompleteFile(blobIdOf(planned.file) ?? '');
    },
    waitFor: (index, end) => waitUntil(() => shared.state(index) === FILE_DONE || (shared.state(index) === FILE_WRITING && shared.bytesOnDisk(index) >= end)),
    waitDone: (index) => waitUntil(() => shared.state(index) === FILE_DONE),
    isDone: (index) => shared.state(index) === FILE_DONE,
    finished,
    stop,
    failure: () => (shared.failed && !stopped ? error() : undefined),
  };
}
