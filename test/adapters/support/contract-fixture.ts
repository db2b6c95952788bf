import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostTensor } from '../../../src/spec/backend.js';
import { GraphBuilder } from '../../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../../src/convert/onnx/weight-sink.js';
import type { MockGraphDefinition } from '../../../src/testing/index.js';

/**
 * The contract graph: float32 x, y [1, 300] and int64 ids [m].
 *   sum = x + y, product = x · y, shifted = x + bias (bias[i] = i / 4, an external initializer),
 *   next_ids = ids + 1.
 * 300 floats of bias are 1200 bytes, over the builder's inline limit, so the graph really has a
 * `.data` file beside it.
 */
export const CONTRACT_GRAPH = 'contract';
export const WIDTH = 300;
export const CONTRACT_INPUTS = ['x', 'y', 'ids'] as const;
export const CONTRACT_OUTPUTS = ['sum', 'product', 'shifted', 'next_ids'] as const;
const DATA_FILE = 'contract.onnx.data';

export function bias(): Float32Array {
  return Float32Array.from({ length: WIDTH }, (_, index) => index / 4);
}

export interface ContractFixture {
  readonly directory: string;
  readonly graphPath: string;
  readonly dataPath: string;
  readonly dataFileName: string;
  readonly graphBytes: Uint8Array;
  readonly dataBytes: Uint8Array;
  /** A graph ORT cannot parse. */
  readonly brokenBytes: Uint8Array;
  remove(): void;
}

export function writeContractFixture(): ContractFixture {
  const sink = new MemoryWeightSink(DATA_FILE);
  const builder = new GraphBuilder(CONTRACT_GRAPH, sink);
  const x = builder.input('x', 'float32', [1, WIDTH]);
  const y = builder.input('y', 'float32', [1, WIDTH]);
  const ids = builder.input('ids', 'int64', ['m']);
  const biasName = builder.floatInitializer('bias', [WIDTH], bias());
  builder.output(builder.op('Add', [x, y]), 'sum', 'float32', [1, WIDTH]);
  builder.output(builder.op('Mul', [x, y]), 'product', 'float32', [1, WIDTH]);
  builder.output(builder.op('Add', [x, biasName]), 'shifted', 'float32', [1, WIDTH]);
  builder.output(builder.op('Add', [ids, builder.constInt64([1], [1])]), 'next_ids', 'int64', ['m']);
  const graphBytes = builder.toBytes();
  const dataBytes = sink.bytes();
  if (sink.files.length !== 1) throw new Error('the contract graph was meant to have external data');
  const directory = mkdtempSync(join(tmpdir(), 'unipic-contract-'));
  const graphPath = join(directory, 'contract.onnx');
  const dataPath = join(directory, DATA_FILE);
  writeFileSync(graphPath, graphBytes);
  writeFileSync(dataPath, dataBytes);
  return {
    directory,
    graphPath,
    dataPath,
    dataFileName: DATA_FILE,
    graphBytes,
    dataBytes,
    brokenBytes: new TextEncoder().encode('this is not an ONNX model'),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

export function contractFeeds(seed: number): { x: HostTensor; y: HostTensor; ids: HostTensor } {
  const x = Float32Array.from({ length: WIDTH }, (_, index) => Math.sin(index + seed) * 3);
  const y = Float32Array.from({ length: WIDTH }, (_, index) => Math.cos(index * 0.5 + seed) - 0.25);
  const ids = BigInt64Array.from([0n, 41n, BigInt(seed), 9_007_199_254_740_993n]);
  return {
    x: { type: 'float32', dims: [1, WIDTH], data: x },
    y: { type: 'float32', dims: [1, WIDTH], data: y },
    ids: { type: 'int64', dims: [ids.length], data: ids },
  };
}

/**
 * The oracle: plain JS arithmetic rounded to float32 per element, which is what a single IEEE
 * float32 Add / Mul produces, so ORT must match it exactly.
 */
export function contractExpected(feeds: { x: HostTensor; y: HostTensor; ids: HostTensor }) {
  const x = feeds.x.data as Float32Array;
  const y = feeds.y.data as Float32Array;
  const weights = bias();
  return {
    sum: Float32Array.from(x, (value, index) => Math.fround(value + y[index])),
    product: Float32Array.from(x, (value, index) => Math.fround(value * y[index])),
    shifted: Float32Array.from(x, (value, index) => Math.fround(value + weights[index])),
    next_ids: BigInt64Array.from(feeds.ids.data as BigInt64Array, (value) => value + 1n),
  };
}

/** The same graph for the mock backend, computed in JS. */
export const contractMockGraph: MockGraphDefinition = {
  inputs: CONTRACT_INPUTS,
  outputs: CONTRACT_OUTPUTS,
  run: (feeds) => {
    const expected = contractExpected(feeds as { x: HostTensor; y: HostTensor; ids: HostTensor });
    return {
      sum: { type: 'float32', dims: [1, WIDTH], data: expected.sum },
      product: { type: 'float32', dims: [1, WIDTH], data: expected.product },
      shifted: { type: 'float32', dims: [1, WIDTH], data: expected.shifted },
      next_ids: { type: 'int64', dims: feeds.ids.dims, data: expected.next_ids },
    };
  },
};
