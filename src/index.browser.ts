/**
 * unipic for browsers and workers: `UniPic.load(url)` caches files in the Cache API and runs on
 * onnxruntime-web (WebGPU → wasm).
 */
import { UniPicModel } from './core/model/unipic-model.js';
import { browserPlatform } from './platform/browser-platform.js';

export class UniPic extends UniPicModel {
  static override platform = browserPlatform;
}

export * from './public-api.js';
export {
  CacheApiCache,
  DEFAULT_CACHE_NAME,
  estimateStorage,
  requestPersistentStorage,
  probeBrowser,
  type BrowserCapabilities,
  type ProbeWarning,
} from './browser/index.js';

// UniPic2-SD3.5M-Kontext (until the family registry routes `UniPic.load` to it).
export { KontextModel, KONTEXT_CAPABILITIES, type KontextFiles, type KontextLoadOptions } from './families/unipic2-kontext/kontext-model.js';
export type { KontextRunEvent, KontextResult, KontextTimings } from './families/unipic2-kontext/pipeline/kontext-events.js';
export type { KontextGenerateOptions, KontextEditOptions } from './families/unipic2-kontext/pipeline/kontext-options.js';
