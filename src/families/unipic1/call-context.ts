import type { CallContext } from '../../core/model/model-context.js';
import type { ModelConfig } from './manifest.js';
import type { ModelAssets } from './model/model-assets.js';

/** What a UniPic-1 pipeline gets for one call: the core's context with UniPic-1's config and assets. */
export type UniPic1Context = CallContext<ModelAssets, ModelConfig>;
