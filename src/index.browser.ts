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
