import * as ort from 'onnxruntime-web';

export interface GraphFeed {
  readonly data: number[];
  readonly dims: number[];
}

/** Runs the graph at `url` (no external data) on `device` and returns every output as plain arrays. */
async function runGraph(url: string, device: 'wasm' | 'webgpu', feeds: Record<string, GraphFeed>): Promise<Record<string, GraphFeed>> {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(url, { executionProviders: [device] });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', Float32Array.from(feed.data), feed.dims);
    const outputs = await session.run(inputs);
    const result: Record<string, GraphFeed> = {};
    for (const [name, tensor] of Object.entries(outputs)) result[name] = { data: Array.from((await tensor.getData()) as Float32Array), dims: [...tensor.dims] };
    return result;
  } finally {
    await session.release();
  }
}

Object.assign(globalThis, { runGraph, pageReady: true });
