import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { workerData, type MessagePort } from 'node:worker_threads';
import type { HubSettings } from '../../core/hub/hub-client.js';
import { blobIdOf } from '../../core/hub/hub-files.js';
import { createHubSource } from '../../core/hub/hub-source.js';
import { openFileStream } from '../../core/sources/file-stream.js';
import type { NetworkOptions } from '../../core/sources/network-options.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { SAFETENSORS_PREFIX_BYTES } from '../../formats/safetensors.js';
import { BlobVerifications } from './blob-verification.js';
import { ensureSnapshotFile } from './ensure-snapshot-file.js';
import { HfRepoCache } from './hf-repo-cache.js';
import { FILE_DONE, FILE_WRITING, SharedArrivals, type StreamedFile, type WorkerMessage } from './shared-arrivals.js';

/** What the main thread hands the worker (structured-cloned; the fetch function stays the global one). */
export interface DownloadWorkerData {
  readonly marker: 'unipic-hub-download';
  readonly files: readonly StreamedFile[];
  readonly endpoint: string;
  readonly token?: string;
  readonly network: NetworkOptions;
  readonly unipicCacheDir: string;
  readonly shared: SharedArrayBuffer;
  readonly port: MessagePort;
}

// A header length past this is refused by the reader anyway; never fetch more than this up front.
const MAX_HEADER_PREFIX = 256 * 1024 * 1024;
// Progress messages at most every this many bytes per file (the main thread may be busy converting).
const PROGRESS_STEP = 4 * 1024 * 1024;

/**
 * The download half of a streamed `hf:` conversion, in a worker thread so that it goes on while the
 * converter's synchronous graph builders hold the main thread. First the header of every streamed
 * safetensors file (a prefix of its `.incomplete`, so the converter can open every shard at once),
 * then each file to its end, in order, through the ordinary resumable, verified blob download.
 * Bytes on disk are published in shared memory (`SharedArrivals`); progress, completion and the
 * error go to the main thread as messages.
 */
async function run(data: DownloadWorkerData): Promise<void> {
  const arrivals = new SharedArrivals(data.shared);
  const settings: HubSettings = {
    endpoint: data.endpoint,
    ...(data.token !== undefined ? { token: data.token } : {}),
    fetch: globalThis.fetch.bind(globalThis),
    network: data.network,
  };
  const post = (message: WorkerMessage) => data.port.postMessage(message);
  const verifications = new BlobVerifications(data.unipicCacheDir);
  let current = -1;
  try {
    for (const [index, file] of data.files.entries()) {
      if (!file.safetensors) continue;
      current = index;
      await fetchHeaderPrefix(file, settings, (bytes) => {
        arrivals.publish(index, FILE_WRITING, bytes);
        post({ type: 'bytes', index, phase: 'download', bytes });
      });
    }
    for (const [index, file] of data.files.entries()) {
      current = index;
      let posted = 0;
      const cache = new HfRepoCache(file.cacheRoot, file.repo);
      const phase = await ensureSnapshotFile(
        {
          cache,
          commit: file.commit,
          file: file.file,
          label: file.label,
          source: createHubSource(settings, { repo: file.repo, commit: file.commit, subfolder: '' }),
        },
        {
          network: data.network,
          signal: undefined,
          offline: false,
          verifications,
          onBytes: (filePhase, bytes) => {
            // Bytes hashed back from a left-over partial and bytes written are both on disk.
            arrivals.publish(index, FILE_WRITING, bytes);
            if (bytes - posted >= PROGRESS_STEP || bytes < posted) {
              posted = bytes;
              post({ type: 'bytes', index, phase: filePhase, bytes });
            }
          },
        },
      );
      arrivals.publish(index, FILE_DONE, file.file.size);
      post({ type: 'file-done', index, phase });
    }
    post({ type: 'done' });
  } catch (error) {
    post({ type: 'error', index: current, error: serializeError(error) });
    arrivals.fail(Math.max(current, 0));
  }
}

/** The first 8 + header-length bytes of a safetensors blob into its `.incomplete` (kept if already there). */
async function fetchHeaderPrefix(file: StreamedFile, settings: HubSettings, onBytes: (bytes: number) => void): Promise<void> {
  const cache = new HfRepoCache(file.cacheRoot, file.repo);
  const blobId = blobIdOf(file.file);
  if (blobId === undefined || (await cache.blobSize(blobId)) === file.file.size) return;
  const incomplete = cache.incompleteFile(blobId);
  let have = (await stat(incomplete).catch(() => undefined))?.size ?? 0;
  if (have > file.file.size) return;
  const prefix = new Uint8Array(SAFETENSORS_PREFIX_BYTES);
  if (have > 0) await readInto(incomplete, prefix, Math.min(have, SAFETENSORS_PREFIX_BYTES));
  // The header's end, once its first 8 bytes are known (capped: a hostile length is the reader's to refuse).
  const headerEnd = () => Math.min(SAFETENSORS_PREFIX_BYTES + Number(new DataView(prefix.buffer).getBigUint64(0, true)), MAX_HEADER_PREFIX, file.file.size);
  if (have >= SAFETENSORS_PREFIX_BYTES && have >= headerEnd()) {
    onBytes(have);
    return;
  }
  await mkdir(dirname(incomplete), { recursive: true });
  const source = createHubSource(settings, { repo: file.repo, commit: file.commit, subfolder: '' });
  const entry = { path: file.file.path, size: file.file.size, sha256: file.file.sha256 ?? '' };
  const stream = await openFileStream(source, entry, { offset: have, network: settings.network });
  if (stream.startOffset !== have) have = 0;
  const handle = await open(incomplete, have > 0 ? 'a' : 'w');
  try {
    for await (const chunk of stream.chunks) {
      if (have < SAFETENSORS_PREFIX_BYTES) prefix.set(chunk.subarray(0, SAFETENSORS_PREFIX_BYTES - have), have);
      const end = have + chunk.byteLength >= SAFETENSORS_PREFIX_BYTES ? headerEnd() : Number.POSITIVE_INFINITY;
      // Stop at the header's end: the rest comes with the file's own transfer, in download order.
      const part = chunk.subarray(0, Math.max(0, Math.min(chunk.byteLength, end - have)));
      await handle.write(part);
      have += part.byteLength;
      onBytes(have);
      if (have >= end) break;
    }
    await handle.datasync();
  } finally {
    await handle.close();
    await stream.cancel().catch(() => undefined);
  }
}

async function readInto(path: string, into: Uint8Array, length: number): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.read(into, 0, length, 0);
  } finally {
    await handle.close();
  }
}

function serializeError(error: unknown): WorkerMessage & { type: 'error' } extends { error: infer E } ? E : never {
  if (UniPicError.isInstance(error)) return { unipic: error.toJSON() };
  return { message: error instanceof Error ? error.message : String(error) };
}

const data = workerData as DownloadWorkerData | undefined;
if (data?.marker === 'unipic-hub-download') void run(data);
