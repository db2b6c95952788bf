import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { AttemptSignal } from './attempt-signal.js';
import type { ModelSource } from './model-source.js';
import type { NetworkOptions } from './network-options.js';
import { RetryBudget } from './retry-budget.js';

/**
 * Read a small file of unknown size (the manifest) whole, with the same retries and timeout as
 * model files. A cut restarts it: resuming is not worth it for a few kilobytes.
 */
export async function readSmallFile(
  source: ModelSource,
  path: string,
  options: { signal?: AbortSignal; network: NetworkOptions; maxBytes: number },
): Promise<Uint8Array> {
  const budget = new RetryBudget(`${path} from ${source.description}`, options.network, options.signal);
  for (;;) {
    budget.attempt();
    const attempt = new AttemptSignal(options.signal, options.network.timeoutMs);
    try {
      const opened = await source.open(path, { offset: 0, signal: attempt.signal });
      const chunks: Uint8Array[] = [];
      let length = 0;
      const reader = opened.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          attempt.touch();
          length += value.byteLength;
          if (length > options.maxBytes) {
            throw new InvalidModelError(`${path} from ${source.description} is larger than ${options.maxBytes} bytes`);
          }
          chunks.push(value);
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      const bytes = new Uint8Array(length);
      let at = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, at);
        at += chunk.byteLength;
      }
      return bytes;
    } catch (error) {
      await budget.failed(error);
    } finally {
      attempt.dispose();
    }
  }
}
