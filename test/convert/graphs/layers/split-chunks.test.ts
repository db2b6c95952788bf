import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { chunkLastAxis, MAX_SPLIT_OUTPUTS, splitLastAxis } from '../../../../src/convert/graphs/layers/split-chunks.js';
import { GraphBuilder } from '../../../../src/convert/onnx/graph-builder.js';
import { onnx } from '../../../../src/convert/onnx/proto.js';

/** Split pieces of `sizes` from a `[2, total]` ramp on onnxruntime-node CPU, with the graph's Split output counts. */
async function runSplit(sizes: readonly number[]): Promise<{ parts: number[][]; splitOutputs: number[] }> {
  const g = new GraphBuilder('split');
  const total = sizes.reduce((a, b) => a + b, 0);
  const x = g.input('x', 'float32', [2, total]);
  splitLastAxis(g, x, sizes).forEach((part, i) => g.output(g.op('Identity', [part]), `p${i}`, 'float32', [2, sizes[i]]));
  const bytes = g.toBytes();
  const splitOutputs = onnx.ModelProto.decode(bytes)
    .graph!.node!.filter((node) => node.opType === 'Split')
    .map((node) => node.output!.length);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({
      x: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * total }, (_, i) => i),
        [2, total],
      ),
    });
    return { parts: sizes.map((_, i) => Array.from(out[`p${i}`].data as Float32Array)), splitOutputs };
  } finally {
    await session.release();
  }
}

describe('splitLastAxis', () => {
  it('gives the pieces in order with no Split of more than MAX_SPLIT_OUTPUTS outputs', async () => {
    for (const sizes of [[3], [1, 2], [4, 4, 4, 4, 4, 4, 4], [2, 2, 2, 2, 2, 2, 2, 2, 2], Array.from({ length: 60 }, (_, i) => 1 + (i % 3))]) {
      const { parts, splitOutputs } = await runSplit(sizes);
      const total = sizes.reduce((a, b) => a + b, 0);
      let at = 0;
      sizes.forEach((size, i) => {
        const expected = [0, 1].flatMap((row) => Array.from({ length: size }, (_, j) => row * total + at + j));
        expect(parts[i], `piece ${i} of ${sizes.length}`).toEqual(expected);
        at += size;
      });
      expect(Math.max(0, ...splitOutputs)).toBeLessThanOrEqual(MAX_SPLIT_OUTPUTS);
      if (sizes.length > 1 && sizes.length <= MAX_SPLIT_OUTPUTS) expect(splitOutputs).toEqual([sizes.length]);
    }
  });

  it('chunkLastAxis is equal pieces', () => {
    const g = new GraphBuilder('chunks');
    expect(chunkLastAxis(g, g.input('x', 'float32', [1, 9 * 4]), 9, 4)).toHaveLength(9);
  });
});
