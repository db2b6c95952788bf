import type { Dtype } from '../src/spec/manifest.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeOrtBackend } from '../adapters/node-ort/index.js';
import { UniPic } from '../src/index.node.js';
import type { BackendSession, HostTensor } from '../src/spec/backend.js';
import type { UniPic1Manifest as Manifest } from '../src/families/unipic1/manifest.js';

/**
 * Loads a converted model folder for generate through `UniPic.load` (every session created), then
 * loads graphs with the node-ort adapter directly and runs the calls of
 * docs/model-format.md once: `embed` (8 token ids) → `llm` (past length 0, 8 tokens) and
 * `diffusion_head` (64 rows). With `compare`, the same feeds go through that dtype's graphs too
 * and the report gives the distance between the two: a 4-bit graph that computed something else
 * (a wrong block layout, a transposed weight) lands at relative error ≈ 1, quantisation noise far below.
 */

const TOKENS = [151644, 872, 198, 32, 8251, 315, 264, 8251];
const HEAD_ROWS = 64;

export interface RunTiming {
  readonly createMs: number;
  readonly firstRunMs: number;
  readonly secondRunMs: number;
}

export interface FullSizeCheckReport {
  readonly dtype: Dtype;
  /** `UniPic.load` for generate with every session created up front (manifest, files, six graphs), then disposed. */
  readonly loadGenerateEagerMs: number;
  readonly llm: RunTiming & { readonly hiddenShape: readonly number[]; readonly presentShape: readonly number[]; readonly finite: boolean };
  readonly diffusionHead: RunTiming & { readonly outShape: readonly number[]; readonly finite: boolean };
  readonly comparedWith?: Dtype;
  /** ‖a − b‖ / ‖b‖ against the `compare` dtype (b), per output. */
  readonly relativeError?: { readonly lastHiddenState: number; readonly present0Key: number; readonly diffusionOut: number };
}

interface Outputs {
  llm: RunTiming & { hidden: HostTensor; present: HostTensor };
  head: RunTiming & { out: HostTensor };
}

export async function runFullSizeCheck(modelDir: string, dtype: Dtype, compare?: Dtype): Promise<FullSizeCheckReport> {
  const loadStarted = performance.now();
  const model = await UniPic.load(modelDir, { dtype, device: 'cpu', capabilities: ['generate'], eager: true });
  const loadGenerateEagerMs = Math.round(performance.now() - loadStarted);
  await model.dispose();
  const manifest = JSON.parse(await readFile(join(modelDir, 'unipic.json'), 'utf8')) as Manifest;
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  try {
    const feeds = await makeFeeds(backend, modelDir, manifest, dtype);
    const main = await runGraphs(backend, modelDir, manifest, dtype, feeds);
    const report: FullSizeCheckReport = {
      dtype,
      loadGenerateEagerMs,
      llm: { ...timing(main.llm), hiddenShape: main.llm.hidden.dims, presentShape: main.llm.present.dims, finite: allFinite(main.llm.hidden) },
      diffusionHead: { ...timing(main.head), outShape: main.head.out.dims, finite: allFinite(main.head.out) },
    };
    if (!compare) return report;
    const other = await runGraphs(backend, modelDir, manifest, compare, feeds);
    return {
      ...report,
      comparedWith: compare,
      relativeError: {
        lastHiddenState: relativeError(main.llm.hidden, other.llm.hidden),
        present0Key: relativeError(main.llm.present, other.llm.present),
        diffusionOut: relativeError(main.head.out, other.head.out),
      },
    };
  } finally {
    await backend.dispose();
  }
}

async function makeFeeds(backend: NodeOrtBackend, modelDir: string, manifest: Manifest, dtype: Dtype) {
  const { llm, mar } = manifest.config;
  const embed = await openGraph(backend, modelDir, manifest, 'embed', dtype);
  const ids = BigInt64Array.from(TOKENS, BigInt);
  const embedded = await embed.session.run({ input_ids: { type: 'int64', dims: [1, TOKENS.length], data: ids } });
  const inputsEmbeds = await embedded.inputs_embeds.download();
  await embed.session.dispose();
  const llmFeeds: Record<string, HostTensor> = {
    inputs_embeds: inputsEmbeds,
    attention_mask: { type: 'int64', dims: [1, TOKENS.length], data: new BigInt64Array(TOKENS.length).fill(1n) },
    position_ids: { type: 'int64', dims: [1, TOKENS.length], data: BigInt64Array.from(TOKENS, (_, i) => BigInt(i)) },
  };
  // An empty cache: the in-place graph stores keys transposed (`[B, KVH, D, slots]`).
  const inPlace = manifest.kvCache === 'in-place';
  for (let layer = 0; layer < llm.numLayers; layer++) {
    for (const part of ['key', 'value']) {
      const dims = inPlace && part === 'key' ? [1, llm.numKeyValueHeads, llm.headDim, 0] : [1, llm.numKeyValueHeads, 0, llm.headDim];
      llmFeeds[`past_key_values.${layer}.${part}`] = { type: 'float32', dims, data: new Float32Array(0) };
    }
  }
  const random = uniform(7);
  const headFeeds: Record<string, HostTensor> = {
    x: { type: 'float32', dims: [HEAD_ROWS, mar.tokenDim], data: Float32Array.from({ length: HEAD_ROWS * mar.tokenDim }, random) },
    t: { type: 'float32', dims: [HEAD_ROWS], data: Float32Array.from({ length: HEAD_ROWS }, (_, i) => (i * 997) % 1000) },
    c: { type: 'float32', dims: [HEAD_ROWS, mar.decoderWidth], data: Float32Array.from({ length: HEAD_ROWS * mar.decoderWidth }, random) },
  };
  return { llmFeeds, headFeeds };
}

async function runGraphs(
  backend: NodeOrtBackend,
  modelDir: string,
  manifest: Manifest,
  dtype: Dtype,
  feeds: Awaited<ReturnType<typeof makeFeeds>>,
): Promise<Outputs> {
  // From an empty cache the in-place graph's new keys are the whole present.
  const firstKey = manifest.kvCache === 'in-place' ? 'new_key_values.0.key' : 'present.0.key';
  const llm = await timedRuns(backend, modelDir, manifest, 'llm', dtype, feeds.llmFeeds, ['last_hidden_state', firstKey]);
  const head = await timedRuns(backend, modelDir, manifest, 'diffusion_head', dtype, feeds.headFeeds, ['out']);
  return {
    llm: { ...llm, hidden: llm.outputs.last_hidden_state, present: llm.outputs[firstKey] },
    head: { ...head, out: head.outputs.out },
  };
}

async function openGraph(backend: NodeOrtBackend, modelDir: string, manifest: Manifest, graph: 'embed' | 'llm' | 'diffusion_head', dtype: Dtype) {
  const variant = manifest.graphs[graph]?.[dtype];
  if (!variant) throw new Error(`${modelDir} has no ${graph} graph for ${dtype}`);
  const started = performance.now();
  const session = await backend.createSession({ name: graph, path: join(modelDir, variant.file) });
  return { session, createMs: performance.now() - started };
}

/** Creates the session, runs it twice (the first run pays one-time kernel preparation), disposes it. */
async function timedRuns(
  backend: NodeOrtBackend,
  modelDir: string,
  manifest: Manifest,
  graph: 'llm' | 'diffusion_head',
  dtype: Dtype,
  feeds: Record<string, HostTensor>,
  keep: readonly string[],
): Promise<RunTiming & { outputs: Record<string, HostTensor> }> {
  const { session, createMs } = await openGraph(backend, modelDir, manifest, graph, dtype);
  try {
    const firstMs = await timed(session, feeds);
    const started = performance.now();
    const results = await session.run(feeds);
    const secondRunMs = performance.now() - started;
    const outputs: Record<string, HostTensor> = {};
    for (const name of keep) outputs[name] = await results[name].download();
    return { createMs, firstRunMs: firstMs, secondRunMs, outputs };
  } finally {
    await session.dispose();
  }
}

async function timed(session: BackendSession, feeds: Record<string, HostTensor>): Promise<number> {
  const started = performance.now();
  await session.run(feeds);
  return performance.now() - started;
}

function timing(run: RunTiming): RunTiming {
  return { createMs: Math.round(run.createMs), firstRunMs: Math.round(run.firstRunMs), secondRunMs: Math.round(run.secondRunMs) };
}

function allFinite(tensor: HostTensor): boolean {
  return (tensor.data as Float32Array).every(Number.isFinite);
}

function relativeError(actual: HostTensor, expected: HostTensor): number {
  const a = actual.data as Float32Array;
  const b = expected.data as Float32Array;
  if (a.length !== b.length) return Number.NaN;
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    difference += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(difference / norm);
}

/** Deterministic values uniform on [−1, 1] (an LCG), so runs compare across dtypes and reruns. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}
