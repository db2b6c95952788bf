import { ResourceLimitError } from '../../errors/resource-limit-error.js';
import type { BackendInfo } from '../../spec/backend.js';
import type { Capability, Dtype, GraphName, Manifest } from '../../spec/manifest.js';

const GIB = 1024 ** 3;
const size = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/**
 * Refuses, before anything is downloaded, a graph whose model or external-data file is larger
 * than the backend's `limits.maxFileBytes` (web-ort: 2 GiB − 1, the most a browser fetch and a
 * wasm ArrayBuffer take). Without this the load would end in a failed fetch or a wasm abort.
 */
export function checkFileLimits(manifest: Manifest, dtypes: Partial<Record<GraphName, Dtype>>, info: BackendInfo): void {
  checkGraphLimits(manifest, dtypes, info);
  const limit = info.limits.maxFileBytes;
  if (limit === undefined) return;
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  for (const [graph, dtype] of Object.entries(dtypes) as [GraphName, Dtype][]) {
    const variant = manifest.graphs[graph]?.[dtype];
    if (!variant) continue;
    for (const file of [variant.file, ...variant.externalData]) {
      const bytes = sizes.get(file) ?? 0;
      if (bytes <= limit) continue;
      throw new ResourceLimitError(
        `graph ${graph} (${dtype}) needs ${file}, ${size(bytes)}, but ${info.device} here loads files of at most ${size(limit)}; ` +
          'reconvert the model (the converter splits external data into files under 1.9 GB) or pick a smaller dtype (e.g. q4)',
        { details: { limit: 'maxFileBytes', limitBytes: limit, file, bytes, graph, dtype, device: info.device } },
      );
    }
  }
}

/**
 * Refuses a graph whose files together exceed `limits.maxGraphBytes` (web-ort wasm: 4 GiB, the
 * wasm32 address space that must hold all of one session's weights), e.g. full-size `llm.fp32`.
 */
function checkGraphLimits(manifest: Manifest, dtypes: Partial<Record<GraphName, Dtype>>, info: BackendInfo): void {
  const limit = info.limits.maxGraphBytes;
  if (limit === undefined) return;
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  for (const [graph, dtype] of Object.entries(dtypes) as [GraphName, Dtype][]) {
    const variant = manifest.graphs[graph]?.[dtype];
    if (!variant) continue;
    const bytes = [variant.file, ...variant.externalData].reduce((sum, file) => sum + (sizes.get(file) ?? 0), 0);
    if (bytes <= limit) continue;
    throw new ResourceLimitError(
      `graph ${graph} (${dtype}) is ${size(bytes)} of weights, but ${info.device} holds at most ${size(limit)} in its whole memory; ` +
        'pick a smaller dtype (q4 or q4f16), or WebGPU / Node for this one',
      { details: { limit: 'maxGraphBytes', limitBytes: limit, file: variant.file, bytes, graph, dtype, device: info.device } },
    );
  }
}

/** The graphs each loaded task creates on every call (its required graphs). */
export type TaskGraphs = ReadonlyArray<readonly [Capability, readonly GraphName[]]>;

/** Bytes of the files a set of graphs loads at the given dtypes (a file two graphs share counts once). */
export function graphSetBytes(manifest: Manifest, graphs: readonly GraphName[], dtypeOf: (graph: GraphName) => Dtype | undefined): number {
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  const files = new Set<string>();
  for (const graph of graphs) {
    const dtype = dtypeOf(graph);
    const variant = dtype ? manifest.graphs[graph]?.[dtype] : undefined;
    if (variant) for (const file of [variant.file, ...variant.externalData]) files.add(file);
  }
  return [...files].reduce((sum, file) => sum + (sizes.get(file) ?? 0), 0);
}

/**
 * Refuses a task whose graphs together exceed `limits.maxResidentBytes` (web-ort wasm: the 4 GiB
 * address space all sessions share). Each graph may pass `maxGraphBytes` on its own (full-size fp16
 * `llm` is 2.4 GiB) while a call, which keeps every graph of its task alive, could never fit: without
 * this the load would download gigabytes and the call end in a wasm abort. The message names the
 * dtypes and tasks of this folder that do fit.
 */
export function checkResidentLimits(manifest: Manifest, dtypes: Partial<Record<GraphName, Dtype>>, info: BackendInfo, tasks: TaskGraphs): void {
  const limit = info.limits.maxResidentBytes;
  if (limit === undefined) return;
  const over = tasks
    .map(([task, graphs]) => ({ task, graphs, bytes: graphSetBytes(manifest, graphs, (graph) => dtypes[graph]) }))
    .filter((entry) => entry.bytes > limit);
  const first = over[0];
  if (!first) return;
  const fitting = tasks.filter(([task]) => !over.some((entry) => entry.task === task)).map(([task]) => task);
  const allGraphs = [...new Set(tasks.flatMap(([, graphs]) => graphs))];
  const otherDtypes = (['q4', 'q4f16', 'q8', 'fp16', 'fp32'] as const)
    .filter((dtype) => allGraphs.every((graph) => manifest.graphs[graph]?.[dtype]))
    .map((dtype) => ({ dtype, bytes: Math.max(...tasks.map(([, graphs]) => graphSetBytes(manifest, graphs, () => dtype))) }))
    .filter((entry) => entry.bytes <= limit);
  const ways = [
    ...otherDtypes.map((entry) => `dtype '${entry.dtype}' (${size(entry.bytes)})`),
    ...(fitting.length ? [`capabilities: [${fitting.map((task) => `'${task}'`).join(', ')}]`] : []),
    'WebGPU or Node',
  ];
  const largest = first.graphs.reduce((a, b) => (graphSetBytes(manifest, [b], (g) => dtypes[g]) > graphSetBytes(manifest, [a], (g) => dtypes[g]) ? b : a));
  const dtype = dtypes[largest] as Dtype;
  throw new ResourceLimitError(
    `${first.task} keeps ${first.graphs.map((graph) => `${graph} (${dtypes[graph]})`).join(', ')} loaded together: ${size(first.bytes)} of weights, ` +
      `but ${info.device} holds at most ${size(limit)} for all its sessions; load with ${ways.join(', or ')}`,
    {
      details: {
        limit: 'maxResidentBytes',
        limitBytes: limit,
        file: manifest.graphs[largest]?.[dtype]?.file ?? largest,
        bytes: first.bytes,
        graph: largest,
        dtype,
        device: info.device,
        task: first.task,
        graphs: [...first.graphs],
      },
    },
  );
}
