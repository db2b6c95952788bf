export { openBrowserModel } from './open-browser-model.js';
export { CacheApiCache, DEFAULT_CACHE_NAME, type CacheApiCacheOptions } from './cache-api-cache.js';
export { estimateStorage, requestPersistentStorage, type StorageEstimateResult } from './storage-estimate.js';
export { createNobleSha256 } from './noble-sha256.js';
export { probeBrowser, type BrowserCapabilities, type WebgpuCapabilities, type ProbeWarning, type ProbeWarningCode, type ProbeOptions } from './probe-browser.js';
