import { WebOrtBackend } from '../../../adapters/web-ort/index.js';
import type { DeviceTensor, HostTensor } from '../../../src/spec/backend.js';

/**
 * The web-ort contract scenario, run inside Chromium: the graph and its external data load from
 * URLs, outputs come back as plain arrays for the test to compare with its oracle.
 */
interface ScenarioInput {
  readonly device: 'wasm' | 'webgpu';
  readonly x: number[];
  readonly y: number[];
  readonly ids: string[];
}

const numbers = async (tensor: DeviceTensor) => Array.from((await tensor.download()).data as Float32Array);

async function runScenario(input: ScenarioInput) {
  const warnings: string[] = [];
  const backend = new WebOrtBackend();
  const info = await backend.init({ device: input.device, extra: { wasmPaths: '/ort/' }, onWarning: (warning) => warnings.push(warning.code) });
  const session = await backend.createSession({
    name: 'contract',
    path: '/graphs/contract.onnx',
    externalData: [{ path: 'contract.onnx.data', data: '/graphs/contract.onnx.data' }],
  });
  const feeds: Record<string, HostTensor> = {
    x: { type: 'float32', dims: [1, input.x.length], data: Float32Array.from(input.x) },
    y: { type: 'float32', dims: [1, input.y.length], data: Float32Array.from(input.y) },
    ids: { type: 'int64', dims: [input.ids.length], data: BigInt64Array.from(input.ids.map(BigInt)) },
  };
  const all = await session.run(feeds);
  const full = {
    locations: Object.fromEntries(Object.entries(all).map(([name, tensor]) => [name, tensor.location])),
    sum: await numbers(all.sum),
    product: await numbers(all.product),
    shifted: await numbers(all.shifted),
    nextIds: Array.from((await all.next_ids.download()).data as BigInt64Array, String),
  };
  // A run fetching fewer outputs than the one before (what broke IO binding in onnxruntime-node).
  const subset = await session.run(feeds, { outputs: ['product'] });
  const subsetKeys = Object.keys(subset);
  const kept = (await session.run(feeds, { outputs: ['sum'], keepOnDevice: ['sum'] })).sum;
  const keptLocation = kept.location;
  const keptSum = await numbers(kept);
  const fedBack = await numbers((await session.run({ ...feeds, x: kept }, { outputs: ['product'] })).product);
  kept.dispose();
  const afterDispose = await kept.download().then(
    () => 'resolved',
    (error: { code?: string }) => error.code ?? 'no code',
  );
  const concurrent = await Promise.all([1, 2, 3].map(() => session.run(feeds, { outputs: ['sum'] }).then((outputs) => numbers(outputs.sum))));
  await session.dispose();
  const liveAfterDispose = backend.liveSessions;
  await backend.dispose();
  return { info, warnings, full, subsetKeys, keptLocation, keptSum, fedBack, afterDispose, concurrent, liveAfterDispose };
}

export type ScenarioResult = Awaited<ReturnType<typeof runScenario>>;

Object.assign(globalThis, { runScenario, pageReady: true });
