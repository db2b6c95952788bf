/**
 * unipic for Node: `UniPic.load()` reads model folders, URLs (disk-cached), file maps or fetch
 * functions and runs on onnxruntime-node (CUDA → WebGPU → CPU).
 */
import { UniPicModel } from './core/model/unipic-model.js';
import { nodePlatform } from './platform/node-platform.js';

export class UniPic extends UniPicModel {
  static override platform = nodePlatform;
}

export * from './public-api.js';
export { NodeOrtBackend } from '../adapters/node-ort/index.js';
