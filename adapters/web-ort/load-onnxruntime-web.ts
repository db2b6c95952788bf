import { loadRuntime, type RuntimeImporter } from '../shared/load-runtime.js';
import type { OrtRuntime } from '../shared/ort-runtime.js';

// A literal specifier, so bundlers resolve the right build (browser bundle, or the wasm-only
// Node build under the `node` condition).
const importOnnxruntimeWeb: RuntimeImporter = () => import('onnxruntime-web');

export const WEB_INSTALL_HINT =
  'Install it with `npm install onnxruntime-web`. For the WebGPU build with native kernels pass ' +
  '`importRuntime: () => import("onnxruntime-web/webgpu")` to the WebOrtBackend constructor.';

export function loadOnnxruntimeWeb(importer: RuntimeImporter = importOnnxruntimeWeb): Promise<OrtRuntime> {
  return loadRuntime('onnxruntime-web', importer, WEB_INSTALL_HINT);
}
