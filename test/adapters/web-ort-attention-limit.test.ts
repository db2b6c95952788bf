import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebOrtBackend } from '../../adapters/web-ort/index.js';
import { MemoryWeights } from '../../src/convert/graphs/weights.js';
import { makeContext } from '../convert/graphs/layers/support/graph-runner.js';

// The limit web-ort reports on wasm (`maxAttentionHeadOps`, 2³¹ − 1) is the wasm32 build's own:
// ORT's CPU com.microsoft MultiHeadAttention counts a head's 2 · S · T · H operations in a
// ptrdiff_t and throws SafeInt's "Integer overflow" past it, whatever the memory. Shown at the
// edge with one head of 128 tokens (2 · 128² · H = 2³¹ at H = 65536) on onnxruntime-web in Node,
// the same wasm build browsers run.
const TOKENS = 128;

function singleHeadAttention(headSize: number) {
  const { ctx, finish } = makeContext(new MemoryWeights({}));
  const { builder } = ctx;
  const x = builder.input('x', 'float32', [1, 'S', headSize]);
  builder.output(builder.op('MultiHeadAttention', [x, x, x], { num_heads: 1 }, 'com.microsoft'), 'y', 'float32', [1, 'S', headSize]);
  return finish().bytes;
}

async function run(headSize: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(singleHeadAttention(headSize), { executionProviders: ['wasm'] });
  try {
    const x = new Float32Array(TOKENS * headSize).map((_, i) => Math.sin(i * 0.37));
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [1, TOKENS, headSize]) });
    return y.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe("web-ort wasm: the fused attention kernel's 32-bit operation counter", () => {
  let limit: number;
  beforeAll(async () => {
    // The backend sets up onnxruntime-web for Node (one thread) and reports the limit.
    const backend = new WebOrtBackend();
    limit = (await backend.init({ device: 'wasm' })).limits.maxAttentionHeadOps!;
    await backend.dispose();
  });

  it('a head at the reported limit runs; one operation count past it fails with SafeInt overflow', async () => {
    const under = Math.floor(limit / (2 * TOKENS * TOKENS));
    expect(2 * TOKENS * TOKENS * under).toBeLessThanOrEqual(limit);
    expect((await run(under)).every(Number.isFinite)).toBe(true);
    const over = under + 1;
    expect(2 * TOKENS * TOKENS * over).toBeGreaterThan(limit);
    await expect(run(over)).rejects.toThrow(/Integer overflow/);
  }, 120_000);
});
