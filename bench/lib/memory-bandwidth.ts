import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { median } from './stats.js';

export interface BandwidthResult {
  /** Bytes per second read by ORT's CPU EP GEMV (`[1, K] × [K, N]`, B fed at run time), all intra-op threads. */
  readonly ortRead: number;
  /** Bytes per second moved (read + write) by one JS thread copying a large buffer. */
  readonly singleThreadCopy: number;
  readonly bufferBytes: number;
}

/**
 * Sustained memory bandwidth, measured the way decode uses memory: one fp32 GEMV over a 1 GiB
 * matrix (well past the last-level cache), each weight read once, ORT's own threads and kernel.
 * A JS buffer copy (one thread, read + write) is reported beside it as a second opinion.
 */
export async function measureBandwidth(bufferBytes = 1 << 30, repeats = 5, threads?: number): Promise<BandwidthResult> {
  const depth = 4096;
  const columns = Math.floor(bufferBytes / 4 / depth);
  const builder = new GraphBuilder('bandwidth');
  const x = builder.input('x', 'float32', [1, depth]);
  const w = builder.input('w', 'float32', [depth, columns]);
  builder.output(builder.op('MatMul', [x, w]), 'y', 'float32', [1, columns]);
  const session = await ort.InferenceSession.create(builder.toBytes(), threads ? { intraOpNumThreads: threads } : {});
  const data = new Float32Array(depth * columns);
  for (let i = 0; i < data.length; i += 1024) data[i] = 1;
  const feeds = { x: new ort.Tensor('float32', new Float32Array(depth).fill(1), [1, depth]), w: new ort.Tensor('float32', data, [depth, columns]) };
  const reads: number[] = [];
  try {
    await session.run(feeds);
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      await session.run(feeds);
      reads.push((data.byteLength / (performance.now() - started)) * 1000);
    }
  } finally {
    await session.release();
  }
  const target = new Float32Array(data.length);
  target.set(data);
  const copies: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    target.set(data);
    copies.push(((2 * data.byteLength) / (performance.now() - started)) * 1000);
  }
  return { ortRead: median(reads), singleThreadCopy: median(copies), bufferBytes: data.byteLength };
}
