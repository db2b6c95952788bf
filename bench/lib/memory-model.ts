import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { STRUCTURE_FILE } from '../../src/families/unipic1/convert/resolve-checkpoint-config.js';
import { UNIPIC_1_5B, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { float32Bytes, writeSafetensorsFile } from './safetensors-file.js';
import { CONVERTER_SOURCES, sourceFingerprint } from './source-fingerprint.js';
import { SyntheticWeights } from './synthetic-weights.js';

/**
 * Full UniPic widths with one block per stack (LLM 1 of 28 layers, MAR 1+1 of 20+20, head 1 of 12)
 * and the full VAE: activation shapes at 1024 px are those of the real model, weights are a
 * fraction. Peak memory is extrapolated to full depth by the weight bytes the depth leaves out.
 */
export const MEMORY_STRUCTURE: CheckpointConfig = {
  ...UNIPIC_1_5B,
  llm: { ...UNIPIC_1_5B.llm, num_hidden_layers: 1 },
  mar: { ...UNIPIC_1_5B.mar, encoder_depth: 1, decoder_depth: 1 },
  diffloss: { ...UNIPIC_1_5B.diffloss, depth: 1 },
};

/**
 * A converted model folder (fp32 + q4) of MEMORY_STRUCTURE, made the way users make one:
 * an official-layout checkpoint (here one safetensors file of seeded weights) through
 * `convertCheckpoint`. Cached; rebuilt when the structure changes.
 */
export async function prepareMemoryModel(cacheDir: string, log: (line: string) => void): Promise<string> {
  const root = join(cacheDir, 'memory-model');
  const checkpoint = join(root, 'checkpoint');
  const model = join(root, 'model');
  const stampPath = join(root, 'bench-stamp.json');
  const stamp = JSON.stringify({ version: 1, structure: MEMORY_STRUCTURE, sources: sourceFingerprint(CONVERTER_SOURCES) });
  if (existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === stamp) return model;
  await rm(root, { recursive: true, force: true });
  await mkdir(checkpoint, { recursive: true });
  const started = Date.now();
  const weights = new SyntheticWeights(MEMORY_STRUCTURE);
  writeSafetensorsFile(
    join(checkpoint, 'model.safetensors'),
    weights.names.map((name) => ({ name, dtype: 'float32', shape: [...weights.shape(name)], bytes: () => float32Bytes(weights.float32(name)) })),
  );
  await writeFile(join(checkpoint, STRUCTURE_FILE), JSON.stringify(MEMORY_STRUCTURE, null, 2));
  log(`  wrote the full-width checkpoint in ${((Date.now() - started) / 1000).toFixed(0)} s; converting (fp32, q4)`);
  const summary = await convertCheckpoint(checkpoint, model, { dtypes: ['fp32', 'q4'], structure: MEMORY_STRUCTURE });
  log(`  converted in ${(summary.ms / 1000).toFixed(0)} s`);
  await rm(checkpoint, { recursive: true, force: true });
  await writeFile(stampPath, stamp);
  return model;
}
