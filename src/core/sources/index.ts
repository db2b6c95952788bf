export { MANIFEST_FILE, encodePath, isModelSource } from './model-source.js';
export type {
  DeliveryPreference,
  LocalReadContext,
  ModelSource,
  OpenRequest,
  OpenedFile,
  SourceKind,
  VerifyMode,
} from './model-source.js';
export { ResolvedFiles, type ResolvedFile } from './resolved-file.js';
export { ModelFiles, type ModelFilesSettings, type ResolveOptions } from './model-files.js';
export { openModelFiles, type OpenModelFilesOptions } from './open-model-files.js';
export { createFetchSource, createUrlSource, normalizeBaseUrl, type FetchFunction } from './fetch-source.js';
export { createFileMapSource, type FileMap } from './file-map-source.js';
export { sourceFromLocation, type ModelLocation } from './model-location.js';
export {
  networkOptionsOf,
  parseSourceOptions,
  sourceOptionsSchema,
  type SourceOptions,
  type SourceOptionsInput,
} from './source-options.js';
export { DEFAULT_NETWORK_OPTIONS, networkOptionsSchema, type NetworkOptions } from './network-options.js';
export { parseManifest } from './parse-manifest.js';
export { selectFiles, selectGraphs, type FileSelection, type SelectedGraph } from './select-files.js';
export { toGraphSource } from './graph-source.js';
export { LoadProgress, FileProgress } from './load-progress.js';
export { bytesToHex, type HashFactory, type IncrementalHash } from './incremental-hash.js';
export { openFileStream, type FileStream, type OpenFileStream } from './file-stream.js';
export type { CacheFileContext, ModelCache } from '../cache/model-cache.js';
