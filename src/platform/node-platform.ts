import { readFile } from 'node:fs/promises';
import type { ModelLocation } from '../core/sources/model-location.js';
import { readResolvedFile, toOpenedModel, type Platform } from '../core/model/platform.js';
import { openNodeModel } from '../node/open-node-model.js';

/** Node: onnxruntime-node by default, files from folders, URLs (disk-cached), file maps or fetch. */
export const nodePlatform: Platform = {
  name: 'node',
  async createBackend(adapter) {
    if (adapter === 'web-ort') {
      const { WebOrtBackend } = await import('../../adapters/web-ort/index.js');
      return new WebOrtBackend();
    }
    const { NodeOrtBackend } = await import('../../adapters/node-ort/index.js');
    return new NodeOrtBackend();
  },
  async openModel(location, options) {
    const { signal, onProgress, ...sourceOptions } = options;
    const files = await openNodeModel(location as ModelLocation, { ...sourceOptions, ...(signal ? { signal } : {}) });
    return toOpenedModel(files, { signal, onProgress });
  },
  async readFile(file) {
    return (await readResolvedFile(file)) ?? new Uint8Array(await readFile((file as { path: string }).path));
  },
};
