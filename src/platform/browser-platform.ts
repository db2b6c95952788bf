import { openBrowserModel } from '../browser/open-browser-model.js';
import type { ModelLocation } from '../core/sources/model-location.js';
import { readResolvedFile, toOpenedModel, type Platform } from '../core/model/platform.js';
import { UnsupportedDeviceError } from '../errors/unsupported-device-error.js';

/** Browsers and workers: onnxruntime-web (WebGPU → wasm), files from URLs into the Cache API. */
export const browserPlatform: Platform = {
  name: 'browser',
  async createBackend(adapter) {
    if (adapter === 'node-ort') throw new UnsupportedDeviceError('the node-ort adapter does not run in browsers; use web-ort');
    const { WebOrtBackend } = await import('../../adapters/web-ort/index.js');
    return new WebOrtBackend();
  },
  async openModel(location, options) {
    const { signal, onProgress, ...sourceOptions } = options;
    const files = await openBrowserModel(location as ModelLocation, { ...sourceOptions, ...(signal ? { signal } : {}) });
    return toOpenedModel(files, { signal, onProgress });
  },
  async readFile(file) {
    const bytes = await readResolvedFile(file);
    if (!bytes) throw new UnsupportedDeviceError(`file paths cannot be read in a browser (${file.entry.path})`);
    return bytes;
  },
};
