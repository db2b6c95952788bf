import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { InvalidModelError } from '../errors/invalid-model-error.js';

/** Bookkeeping folder inside each model's cache folder; manifest paths may not use it. */
export const BOOKKEEPING_FOLDER = '.unipic';

/**
 * One model's folder in the cache: `<root>/<first 16 hex of sha256(key)>/`. The key is the
 * model's base URL, so two URLs never share files and the folder name stays short and safe.
 */
export function modelCacheDirectory(root: string, key: string): string {
  return join(root, createHash('sha256').update(key).digest('hex').slice(0, 16));
}

export interface CachedFilePaths {
  /** The verified file, at its manifest path, so a graph finds its external data beside it. */
  readonly file: string;
  /** Download in progress; renamed onto `file` once verified. */
  readonly partial: string;
  /** `{ validator }` of the partial's server copy, to resume it in a later process. */
  readonly partialInfo: string;
  /** `{ size, sha256, mtimeMs }` recorded when `file` was verified, to skip rehashing. */
  readonly verified: string;
}

export function cachedFilePaths(modelDirectory: string, path: string): CachedFilePaths {
  if (path === 'unipic.json' || path === BOOKKEEPING_FOLDER || path.startsWith(`${BOOKKEEPING_FOLDER}/`)) {
    throw new InvalidModelError(`${path} is a name the model cache reserves for itself; rename the file in the model`);
  }
  const bookkeeping = join(modelDirectory, BOOKKEEPING_FOLDER, path);
  return {
    file: join(modelDirectory, path),
    partial: `${bookkeeping}.partial`,
    partialInfo: `${bookkeeping}.partial.json`,
    verified: `${bookkeeping}.verified.json`,
  };
}
