import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { accountKeys, type KeyAccount } from '../../../convert/expected-shapes.js';
import type { TensorDescriptor, TensorSource } from '../../../convert/readers/tensor-descriptor.js';
import { SafetensorsFile } from '../../../convert/readers/safetensors-file-reader.js';
import { ShardedCheckpoint } from '../../../convert/readers/sharded-checkpoint-reader.js';
import { readSd3DiffusionStructure, type Sd3DiffusionStructure } from '../../../convert/sd3-diffusion/diffusion-configs.js';
import { diffusionIgnoredReason, POSITION_TABLE_KEY, sd3DiffusionShapes } from '../../../convert/sd3-diffusion/diffusion-shapes.js';
import { CheckpointWeights } from '../../../convert/sync-weights.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { ConditionerConfig } from './conditioner-config.js';

export const DIFFUSION_FOLDERS = ['transformer', 'vae', 'scheduler'] as const;
const WEIGHT_FILE = 'diffusion_pytorch_model.safetensors';

/** The Skywork folder's SD3.5M-Kontext transformer and SD3 VAE, opened and accounted, ready to build. */
export interface DiffusionPart {
  readonly structure: Sd3DiffusionStructure;
  readonly keys: KeyAccount;
  /** `transformer.*` and `vae.*` keys (the required ones and the position table). */
  readonly weights: CheckpointWeights;
  close(): Promise<void>;
}

/**
 * `transformer/`, `vae/`, `scheduler/` of a Skywork Metaquery folder: `undefined` when
 * none is there (a VLM-only conversion: understand alone); all three or a refusal otherwise. Every
 * key is required (shape and dtype checked) or ignored with a reason (the position buffer), and the
 * conditioner's output widths must be the transformer's text-stream widths.
 */
export async function openDiffusionPart(root: string, conditioner: ConditionerConfig): Promise<DiffusionPart | undefined> {
  const present = DIFFUSION_FOLDERS.filter((d) => existsSync(join(root, d)));
  if (present.length === 0) return undefined;
  if (present.length < DIFFUSION_FOLDERS.length) {
    const missing = DIFFUSION_FOLDERS.filter((d) => !present.includes(d));
    throw new InvalidModelError(`${root} has ${present.join(', ')} but not ${missing.join(', ')}: generate and edit need all three`);
  }
  const structure = await readSd3DiffusionStructure(root);
  const t = structure.transformer;
  if (t.jointAttentionDim !== conditioner.jointAttentionDim || t.pooledProjectionDim !== conditioner.pooledProjectionDim) {
    throw new InvalidModelError(
      `the conditioner writes [${conditioner.jointAttentionDim}] prompt and [${conditioner.pooledProjectionDim}] pooled embeddings, the transformer takes [${t.jointAttentionDim}] and [${t.pooledProjectionDim}]`,
    );
  }
  const sources: TensorSource[] = [];
  try {
    const tensors = new Map<string, TensorDescriptor>();
    for (const component of ['transformer', 'vae']) {
      const folder = join(root, component);
      const index = join(folder, `${WEIGHT_FILE}.index.json`);
      const single = join(folder, WEIGHT_FILE);
      if (existsSync(index) && existsSync(single)) throw new InvalidModelError(`${folder} has both ${WEIGHT_FILE} and its shard index`);
      const source = existsSync(index) ? await ShardedCheckpoint.open(index) : existsSync(single) ? await SafetensorsFile.open(single) : undefined;
      if (!source) throw new InvalidModelError(`${folder} has neither ${WEIGHT_FILE} nor ${WEIGHT_FILE}.index.json`);
      sources.push(source);
      for (const [name, tensor] of source.tensors) tensors.set(`${component}.${name}`, tensor);
    }
    const expected = new Map<string, readonly number[]>();
    sd3DiffusionShapes(expected, structure);
    const keys = accountKeys(expected, tensors, diffusionIgnoredReason);
    const needed = [...keys.required, ...(tensors.has(POSITION_TABLE_KEY) ? [POSITION_TABLE_KEY] : [])];
    const weights = await CheckpointWeights.open({ root, tensors }, needed);
    return {
      structure,
      keys,
      weights,
      close: async () => {
        weights.close();
        await Promise.all(sources.map((s) => s.close()));
      },
    };
  } catch (error) {
    await Promise.all(sources.map((s) => s.close()));
    throw error;
  }
}
