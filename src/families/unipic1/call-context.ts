import type { CallContext } from '../../core/model/model-context.js';
import type { UniPic1Graphs } from './graphs.js';
import type { ModelConfig } from './manifest.js';
import type { ModelAssets } from './model/model-assets.js';

/** What a UniPic-1 pipeline gets for one call: the core's context with UniPic-1's config, assets and graphs. */
export type UniPic1Context = CallContext<ModelAssets, ModelConfig, UniPic1Graphs>;

/** UniPic-1's graphs, typed by its contract (src/families/unipic1/graphs.ts). */
export type UniPic1GraphRunner = UniPic1Context['graphs'];
