import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../src/convert/onnx/weight-sink.js';

describe('GraphBuilder', () => {
  it('builds a MatMul+Add graph with external weights that ORT runs', async () => {
    const sink = new MemoryWeightSink('w.data');
    const g = new GraphBuilder('t', sink);
    const x = g.input('x', 'float32', ['B', 300]);
    const w = new Float32Array(300 * 2).map((_, i) => (i % 7) * 0.01);
    const wName = g.floatInitializer('w', [300, 2], w);
    const y = g.op('Add', [g.op('MatMul', [x, wName]), g.constFloat([1, 2])]);
    g.output(y, 'y', 'float32', ['B', 2]);
    const session = await ort.InferenceSession.create(g.toBytes(), {
      externalData: [{ path: 'w.data', data: sink.bytes() }],
    });
    const xs = new Float32Array(300).fill(1);
    const out = await session.run({ x: new ort.Tensor('float32', xs, [1, 300]) });
    let e0 = 1;
    let e1 = 2;
    for (let i = 0; i < 300; i++) {
      e0 += w[i * 2];
      e1 += w[i * 2 + 1];
    }
    const y0 = out.y.data as Float32Array;
    expect(y0[0]).toBeCloseTo(e0, 4);
    expect(y0[1]).toBeCloseTo(e1, 4);
    await session.release();
  });
});
