/**
 * unipic for browsers and workers: `UniPic.load(url)` caches files in the Cache API and runs on
 * onnxruntime-web (WebGPU → wasm).
 */
import { loadModel } from './core/model/load-model.js';
import { UniPicModel } from './core/model/unipic-model.js';
import type { BuiltInLoad } from './families/builtin-models.js';
import type { ModelConfig, UniPic1Manifest } from './families/unipic1/manifest.js';
import type { UniPic1Tasks } from './families/unipic1/runtime.js';
import { registerBuiltInFamilies } from './families/builtin.js';
import { browserPlatform } from './platform/browser-platform.js';

/** A loaded model; `UniPic.load(source)` reads the family from its manifest (built in: UniPic-1, UniPic2 Kontext, MetaQuery). */
export class UniPic extends UniPicModel<UniPic1Tasks, ModelConfig, UniPic1Manifest> {
  static override platform = browserPlatform;
  /**
   * Load a converted model folder (`unipic.json` + graphs) from a path, URL, file map or ModelSource.
   * Pass `family` to type the model as that family's (`UniPic.load(dir, { family: 'unipic2-kontext' })`).
   */
  static override load: BuiltInLoad<UniPic> = (source: unknown, options = {}) => loadModel(UniPic, source, options) as never;
  static {
    registerBuiltInFamilies();
  }
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

// UniPic2-SD3.5M-Kontext: `UniPic.load` reads the family from unipic.json; these type its tasks.
export type { KontextTasks } from './families/unipic2-kontext/runtime.js';
export type { KontextRunEvent, KontextResult, KontextTimings } from './families/unipic2-kontext/pipeline/kontext-events.js';
export type { KontextGenerateOptions, KontextEditOptions } from './families/unipic2-kontext/pipeline/kontext-options.js';

// UniPic2-Metaquery: understand, generate and edit on one model.
export type { MetaqueryTasks } from './families/unipic2-metaquery/runtime.js';
export type { MetaqueryGenerateOptions, MetaqueryEditOptions } from './families/unipic2-metaquery/runtime/sample-options.js';
