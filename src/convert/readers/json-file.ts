import { readFile, stat } from 'node:fs/promises';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';

/** Reads a small JSON file (index, config), refusing files above `maxBytes` before reading them. */
export async function readJsonFile(path: string, maxBytes: number): Promise<unknown> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelNotFoundError(`${path} does not exist`, { cause });
    throw cause;
  }
  if (size > maxBytes) throw new InvalidModelError(`${path} is ${size} bytes, more than the ${maxBytes} a JSON file here may have`);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new InvalidModelError(`${path} is not valid JSON`, { cause });
  }
}
