import { join } from 'node:path';
import type { z } from 'zod';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { readJsonFile } from './json-file.js';

const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads `<folder>/<file>` (a diffusers or transformers config) through `schema`; a config the schema
 * refuses is an InvalidModelError listing every failing field, so nothing converts into a silently
 * different model.
 */
export async function parseDiffusersConfig<T extends z.ZodType>(folder: string, schema: T, file = 'config.json'): Promise<z.infer<T>> {
  const path = join(folder, file);
  const parsed = schema.safeParse(await readJsonFile(path, MAX_CONFIG_BYTES));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new InvalidModelError(`${path} describes a model this converter does not support: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: { file: path, issues },
    });
  }
  return parsed.data;
}
