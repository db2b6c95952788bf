import { readFile } from 'node:fs/promises';
import type { ModelLocation } from '../core/sources/model-location.js';
import type { ResolvedFile } from '../core/sources/resolved-file.js';
import type { OpenedModel, Platform } from '../core/model/platform.js';
import { openNodeModel } from '../node/open-node-model.js';
import { InvalidModelError } from '../errors/invalid-model-error.js';

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
  async openModel(location, options): Promise<OpenedModel> {
    const { signal, onProgress, ...sourceOptions } = options;
    const files = await openNodeModel(location as ModelLocation, { ...sourceOptions, ...(signal ? { signal } : {}) });
    return {
      manifest: files.manifest,
      description: files.source.description,
      resolve: (paths) => files.resolve(paths, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) }),
    };
  },
  async readFile(file: ResolvedFile): Promise<Uint8Array> {
    if (file.kind === 'bytes') return file.bytes;
    if (file.kind === 'path') return new Uint8Array(await readFile(file.path));
    const response = await fetch(file.url);
    if (!response.ok) throw new InvalidModelError(`could not read ${file.entry.path} (${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  },
};
