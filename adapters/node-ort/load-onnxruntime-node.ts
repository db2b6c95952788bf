import { loadRuntime, type RuntimeImporter } from '../shared/load-runtime.js';
import type { OrtRuntime } from '../shared/ort-runtime.js';

// A literal specifier, so bundlers see it and tsup can keep it external.
const importOnnxruntimeNode: RuntimeImporter = () => import('onnxruntime-node');

export const NODE_INSTALL_HINT =
  'Install it with `npm install onnxruntime-node`. On Linux x64 its install script downloads the CUDA provider from NuGet; ' +
  'where that is unreachable the install fails, and `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` installs ' +
  'the CPU/WebGPU build only (add the CUDA files later with `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`).';

export function loadOnnxruntimeNode(importer: RuntimeImporter = importOnnxruntimeNode): Promise<OrtRuntime> {
  return loadRuntime('onnxruntime-node', importer, NODE_INSTALL_HINT);
}
