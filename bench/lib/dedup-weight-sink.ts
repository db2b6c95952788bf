import { createHash } from 'node:crypto';
import type { ExternalLocation, WeightSink } from '../../src/convert/onnx/weight-sink.js';

/**
 * A content-addressed external-data sink over another sink: a tensor whose bytes were written
 * before (by any graph sharing this sink) reuses the earlier location. Graphs built from the same
 * weights in different layouts (ours and the transformers.js causal-LM graph, q4 variants that
 * differ only in attributes) then share one copy on disk and in the page cache.
 */
export class DedupWeightSink implements WeightSink {
  private readonly seen = new Map<string, ExternalLocation>();

  constructor(private readonly inner: WeightSink) {}

  get files(): readonly string[] {
    return this.inner.files;
  }

  write(bytes: Uint8Array): ExternalLocation {
    const key = `${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
    const hit = this.seen.get(key);
    if (hit) return hit;
    const location = this.inner.write(bytes);
    this.seen.set(key, location);
    return location;
  }

  close(): void {
    this.inner.close();
  }
}
