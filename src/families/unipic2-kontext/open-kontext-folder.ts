import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../spec/backend.js';
import { KontextModel, type KontextLoadOptions } from './kontext-model.js';

/**
 * Node: a converted Kontext folder with a backend (e.g. `new NodeOrtBackend()`, initialised here).
 * The backend stays the caller's to dispose.
 */
export async function openKontextFolder(dir: string, backend: Backend, options: KontextLoadOptions & { device?: 'cpu' | 'cuda' | 'webgpu' | 'auto' } = {}): Promise<KontextModel> {
  await backend.init({ device: options.device ?? 'cpu' });
  const manifest = JSON.parse(await readFile(join(dir, 'unipic.json'), 'utf8')) as unknown;
  return KontextModel.open(
    manifest,
    {
      graphSource: (name, file) => ({ name, path: join(dir, file) }),
      readText: (path) => readFile(join(dir, path), 'utf8'),
    },
    backend,
    options,
  );
}
