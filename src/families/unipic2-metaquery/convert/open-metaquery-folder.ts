import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../../spec/backend.js';
import { MetaqueryModel } from '../runtime/metaquery-model.js';
import { METAQUERY_CONFIG_FILE } from './convert-metaquery.js';

/**
 * Node: a converted Metaquery folder (`metaquery.json` + graphs) with a backend, initialised here
 * (e.g. `new NodeOrtBackend()`); the backend stays the caller's to dispose. Until the family
 * registry routes `UniPic.load()` to this family, this is how such a folder is opened.
 */
export async function openMetaqueryFolder(
  dir: string,
  backend: Backend,
  options: { device?: 'cpu' | 'cuda' | 'webgpu' | 'auto'; threads?: number } = {},
): Promise<MetaqueryModel> {
  await backend.init({ device: options.device ?? 'cpu' });
  const description = JSON.parse(await readFile(join(dir, METAQUERY_CONFIG_FILE), 'utf8')) as unknown;
  return MetaqueryModel.open(
    description,
    {
      graphSource: (name, file) => ({ name, path: join(dir, file) }),
      readText: (path) => readFile(join(dir, path), 'utf8'),
      readBytes: async (path) => new Uint8Array(await readFile(join(dir, path))),
    },
    backend,
    options.threads === undefined ? {} : { threads: options.threads },
  );
}
