import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { WeightSource } from '../weights.js';
import { ShardedCheckpoint } from '../../readers/sharded-checkpoint-reader.js';
import { SafetensorsFile } from '../../readers/safetensors-file-reader.js';
import type { TensorDescriptor } from '../../readers/tensor-descriptor.js';
import { CheckpointWeights } from '../../sync-weights.js';

/** A folder's safetensors weights, read one tensor at a time on demand (never the whole model). */
export interface FolderWeights {
  readonly weights: CheckpointWeights;
  readonly names: readonly string[];
  close(): Promise<void>;
}

/**
 * Opens `model.safetensors.index.json` (sharded) or a single safetensors file in `folder`
 * (`fileName`, default `model.safetensors`; the conditioner's is `diffusion_pytorch_model.safetensors`).
 */
export async function openFolderWeights(folder: string, fileName = 'model.safetensors'): Promise<FolderWeights> {
  const index = join(folder, `${fileName}.index.json`);
  const single = join(folder, fileName);
  let source: ShardedCheckpoint | SafetensorsFile;
  if (existsSync(index)) source = await ShardedCheckpoint.open(index);
  else if (existsSync(single)) source = await SafetensorsFile.open(single);
  else throw new InvalidModelError(`${folder} has neither ${fileName} nor ${fileName}.index.json`);
  try {
    const tensors = source.tensors as ReadonlyMap<string, TensorDescriptor>;
    const weights = await CheckpointWeights.open({ root: folder, tensors }, tensors.keys());
    return {
      weights,
      names: [...tensors.keys()],
      close: async () => {
        weights.close();
        await source.close();
      },
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/**
 * The Qwen2.5-VL language model under the names the shared Qwen2 graph builders read
 * (`llm.model.*`, `llm.lm_head.weight`), backed by the published `model.*` / `lm_head.weight` keys.
 */
export function asSharedLlmWeights(weights: WeightSource): WeightSource {
  const map = (name: string): string => (name.startsWith('llm.') ? name.slice(4) : name);
  return {
    has: (name) => weights.has(map(name)),
    shape: (name) => weights.shape(map(name)),
    float32: (name) => weights.float32(map(name)),
  };
}
