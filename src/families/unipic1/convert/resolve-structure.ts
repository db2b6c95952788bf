import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { structureSchema, UNIPIC_1_5B, type Structure } from './structure.js';

/** The file a checkpoint folder may carry to state its structure (make-tiny writes one). */
export const STRUCTURE_FILE = 'unipic-config.json';

/**
 * The structure of a checkpoint: its `unipic-config.json` when present, else UniPic-1.5B's with
 * the LLM section taken from the Qwen folder's `config.json` (which the official layout ships).
 */
export async function resolveStructure(
  checkpointDir: string,
  llmConfig: Readonly<Record<string, unknown>> | undefined,
  warnings: string[],
): Promise<Structure> {
  const path = join(checkpointDir, STRUCTURE_FILE);
  if (existsSync(path)) {
    const parsed = structureSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!parsed.success) {
      throw new InvalidModelError(`${path} is not a valid structure file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  }
  if (!llmConfig) {
    warnings.push('no Qwen config.json found: assuming the Qwen2.5-1.5B dimensions');
    return UNIPIC_1_5B;
  }
  const llm = { ...UNIPIC_1_5B.llm };
  for (const key of Object.keys(llm) as (keyof typeof llm)[]) {
    const value = llmConfig[key];
    if (value !== undefined && typeof value === typeof llm[key]) (llm as Record<string, unknown>)[key] = value;
  }
  return { ...UNIPIC_1_5B, llm };
}
