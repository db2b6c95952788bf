export { openNodeModel } from './open-node-model.js';
export { createDirectorySource } from './directory-source.js';
export { DiskCache, type DiskCacheOptions } from './disk-cache.js';
export { defaultCacheDir } from './default-cache-dir.js';
export { modelCacheDirectory } from './disk-cache-layout.js';
export { createNodeSha256 } from './node-sha256.js';
