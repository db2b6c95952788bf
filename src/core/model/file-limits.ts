import { ResourceLimitError } from '../../errors/resource-limit-error.js';
import type { BackendInfo } from '../../spec/backend.js';
import type { Dtype, GraphName, Manifest } from '../../spec/manifest.js';

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
