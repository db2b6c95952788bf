import type { UniPicModel } from '../core/model/unipic-model.js';
import type { LoadOptions } from '../core/model/load-options.js';
import type { KontextConfig } from './unipic2-kontext/kontext-config.js';
import type { KontextManifest } from './unipic2-kontext/kontext-manifest.js';
import type { KontextTasks } from './unipic2-kontext/runtime.js';
import type { MetaqueryManifest } from './unipic2-metaquery/manifest.js';
import type { MetaqueryTasks } from './unipic2-metaquery/runtime.js';
import type { Unipic3Manifest } from './unipic3/manifest.js';
import type { Unipic3Tasks } from './unipic3/runtime.js';

/**
 * The model type each built-in family loads as. `UniPic1Model` is the entry point's own `UniPic`
 * class, so code written before families keeps its types.
 */
export interface BuiltInFamilyModels<UniPic1Model> {
  unipic1: UniPic1Model;
  'unipic2-kontext': UniPicModel<KontextTasks, KontextConfig, KontextManifest>;
  'unipic2-metaquery': UniPicModel<MetaqueryTasks, MetaqueryManifest['config'], MetaqueryManifest>;
  unipic3: UniPicModel<Unipic3Tasks, Unipic3Manifest['config'], Unipic3Manifest>;
}

export type BuiltInFamily = keyof BuiltInFamilyModels<unknown>;

/**
 * `UniPic.load`'s signature: with `family`, the model is typed as that family's (and a folder of
 * another family is refused); without it, as UniPic-1's, whatever the manifest says at run time.
 */
export interface BuiltInLoad<UniPic1Model> {
  <Family extends BuiltInFamily>(source: unknown, options: LoadOptions & { family: Family }): Promise<BuiltInFamilyModels<UniPic1Model>[Family]>;
  (source: unknown, options?: LoadOptions): Promise<UniPic1Model>;
}
