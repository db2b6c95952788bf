import type { GraphSource } from '../../spec/backend.js';
import type { GraphVariant } from '../../spec/manifest.js';
import type { ResolvedFile, ResolvedFiles } from './resolved-file.js';

/**
 * The `GraphSource` an adapter gets for one graph variant.
 * - Graph on disk: only the path; ONNX Runtime finds the external data beside it by the name the
 *   graph records (onnxruntime-node refuses a string path in `externalData`).
 * - Graph as URL or bytes: external data listed under the name the graph records, which is its
 *   path relative to the graph's folder, with the same kind of data (URL string or bytes).
 */
export function toGraphSource(name: string, variant: GraphVariant, files: ResolvedFiles): GraphSource {
  const graph = files.get(variant.file);
  if (graph.kind === 'path') return { name, path: graph.path };
  const folder = variant.file.includes('/') ? variant.file.slice(0, variant.file.lastIndexOf('/') + 1) : '';
  const externalData = variant.externalData.map((path) => ({
    path: path.startsWith(folder) ? path.slice(folder.length) : path,
    data: dataOf(files.get(path)),
  }));
  const base = graph.kind === 'url' ? { name, path: graph.url } : { name, bytes: graph.bytes };
  return externalData.length > 0 ? { ...base, externalData } : base;
}

function dataOf(file: ResolvedFile): Uint8Array | string {
  if (file.kind === 'bytes') return file.bytes;
  if (file.kind === 'url') return file.url;
  return file.path;
}
