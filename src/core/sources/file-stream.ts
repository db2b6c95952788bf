import { IntegrityError } from '../../errors/integrity-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import { AttemptSignal } from './attempt-signal.js';
import { assertAnnouncedSize } from './http-response.js';
import type { ModelSource, OpenedFile } from './model-source.js';
import type { NetworkOptions } from './network-options.js';
import { RetryBudget } from './retry-budget.js';
import { TransientSourceError } from './transient-source-error.js';

export interface FileStream {
  /** The requested offset, or 0 when the source could not resume and restarted the file. */
  readonly startOffset: number;
  /** Validator of the copy being sent; persist it to resume this transfer in a later process. */
  readonly validator?: string;
  /**
   * The bytes from `startOffset` to exactly the manifest size. A connection cut or stall is
   * retried inside, resuming at the byte reached (or re-reading and skipping when the source
   * cannot resume), so consumers see one seamless stream.
   */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Release the connection when the consumer gives up before iterating `chunks`. */
  cancel(): Promise<void>;
}

export interface FileStreamOptions {
  readonly offset: number;
  readonly validator?: string;
  readonly signal?: AbortSignal;
  readonly network: NetworkOptions;
}

export type OpenFileStream = (offset: number, validator?: string) => Promise<FileStream>;

/** Open `entry` on `source` with retries, backoff, an idle timeout and transparent resume. */
export async function openFileStream(source: ModelSource, entry: FileEntry, options: FileStreamOptions): Promise<FileStream> {
  const budget = new RetryBudget(`${entry.path} from ${source.description}`, options.network, options.signal);
  const first = await openAttempt(source, entry, options, budget, options.offset, options.validator);
  return {
    startOffset: first.opened.offset,
    ...(first.opened.validator !== undefined ? { validator: first.opened.validator } : {}),
    chunks: readResuming(source, entry, options, budget, first),
    cancel: async () => {
      first.signal.dispose();
      // A stream already being iterated is locked; its generator cleans up after itself.
      if (!first.opened.body.locked) await first.opened.body.cancel().catch(() => undefined);
    },
  };
}

interface Attempt {
  readonly opened: OpenedFile;
  readonly signal: AttemptSignal;
}

async function openAttempt(
  source: ModelSource,
  entry: FileEntry,
  options: FileStreamOptions,
  budget: RetryBudget,
  offset: number,
  validator: string | undefined,
): Promise<Attempt> {
  for (;;) {
    budget.attempt();
    const signal = new AttemptSignal(options.signal, options.network.timeoutMs);
    try {
      const opened = await source.open(entry.path, {
        offset,
        signal: signal.signal,
        ...(validator !== undefined ? { validator } : {}),
      });
      try {
        assertAnnouncedSize(entry.path, opened.size, entry.size);
      } catch (error) {
        await opened.body.cancel().catch(() => undefined);
        throw error;
      }
      return { opened, signal };
    } catch (error) {
      signal.dispose();
      await budget.failed(error);
    }
  }
}

async function* readResuming(source: ModelSource, entry: FileEntry, options: FileStreamOptions, budget: RetryBudget, first: Attempt): AsyncGenerator<Uint8Array> {
  let attempt = first;
  let position = first.opened.offset;
  let validator = first.opened.validator ?? options.validator;
  // After a restart mid-file, the bytes already delivered arrive again and are dropped.
  let skip = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    for (;;) {
      reader = attempt.opened.body.getReader();
      let failure: unknown;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          attempt.signal.touch();
          let chunk = value;
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.byteLength);
            skip -= dropped;
            chunk = chunk.subarray(dropped);
          }
          if (chunk.byteLength === 0) continue;
          if (position + chunk.byteLength > entry.size) {
            throw new IntegrityError(`${entry.path}: the source sends more than the ${entry.size} bytes the manifest lists`, {
              details: { path: entry.path, expectedSize: entry.size },
            });
          }
          position += chunk.byteLength;
          budget.progressed();
          yield chunk;
        }
      } catch (error) {
        failure = error;
      }
      attempt.signal.dispose();
      if (failure === undefined && position === entry.size) return;
      await reader.cancel().catch(() => undefined);
      reader = undefined;
      await budget.failed(failure ?? new TransientSourceError(`connection ended at byte ${position} of ${entry.size}`));
      attempt = await openAttempt(source, entry, options, budget, position, validator);
      if (attempt.opened.offset !== position) skip = position;
      validator = attempt.opened.validator ?? validator;
    }
  } finally {
    attempt.signal.dispose();
    await reader?.cancel().catch(() => undefined);
  }
}
