import * as ort from 'onnxruntime-web';

/**
 * Runs one small graph (MatMul + Add, weights in external data) through onnxruntime-web on the
 * requested execution provider. The runtime `.wasm` files come from `wasmPaths`, the graph and
 * its external data from URLs, as an application would load them.
 */
async function runGraph(device: 'wasm' | 'webgpu', input: number[]): Promise<{ output: number[]; dims: number[] }> {
  ort.env.wasm.wasmPaths = '/ort/';
  const session = await ort.InferenceSession.create('/graphs/smoke.onnx', {
    executionProviders: [device],
    externalData: [{ path: 'smoke.data', data: '/graphs/smoke.data' }],
  });
  try {
    const feed = new ort.Tensor('float32', Float32Array.from(input), [1, input.length]);
    const outputs = await session.run({ x: feed });
    const y = outputs.y;
    return { output: Array.from((await y.getData()) as Float32Array), dims: [...y.dims] };
  } finally {
    await session.release();
  }
}

/** What the page can use, reported as-is so the test states plainly whether WebGPU started. */
async function environment(): Promise<{ crossOriginIsolated: boolean; webgpu: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  let webgpu = 'navigator.gpu is missing';
  if (gpu) webgpu = (await gpu.requestAdapter().catch(() => undefined)) ? 'adapter' : 'requestAdapter() returned null';
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true, webgpu };
}

Object.assign(globalThis, { runGraph, environment, pageReady: true });
