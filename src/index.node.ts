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

// UniPic2-SD3.5M-Kontext (until the family registry routes `UniPic.load` to it).
export { openKontextFolder } from './families/unipic2-kontext/open-kontext-folder.js';
export { KontextModel, KONTEXT_CAPABILITIES, type KontextFiles, type KontextLoadOptions } from './families/unipic2-kontext/kontext-model.js';
export type { KontextRunEvent, KontextResult, KontextTimings } from './families/unipic2-kontext/pipeline/kontext-events.js';
export type { KontextGenerateOptions, KontextEditOptions } from './families/unipic2-kontext/pipeline/kontext-options.js';
