import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelNotFoundError } from '../../../errors/model-not-found-error.js';
import { openShardedCheckpoint } from '../../../convert/readers/sharded-checkpoint-reader.js';
import { openSafetensorsFile } from '../../../convert/readers/safetensors-file-reader.js';
import { openTorchCheckpoint } from '../../../convert/readers/torch-checkpoint-reader.js';
import type { TensorSource } from '../../../convert/readers/tensor-descriptor.js';

/**
 * Opens the weights of one diffusers component folder (`transformer/`, `ema_transformer/`, `vae/`)
 * in whichever published form it has, lazily (descriptors now, bytes one tensor at a time):
 * sharded safetensors with an index, a single safetensors file, or a torch zip-pickle
 * `diffusion_pytorch_model.bin` (the distilled repositories' ~41 GB `ema_transformer/`), the
 * latter through the restricted unpickler (plain data and tensors only).
 */
export async function openDiffusersComponent(folder: string): Promise<TensorSource> {
  const candidates: Array<[string, (path: string) => Promise<TensorSource>]> = [
    ['diffusion_pytorch_model.safetensors.index.json', openShardedCheckpoint],
    ['diffusion_pytorch_model.safetensors', openSafetensorsFile],
    ['diffusion_pytorch_model.bin', (path) => openTorchCheckpoint(path)],
  ];
  for (const [file, open] of candidates) {
    const path = join(folder, file);
    if (existsSync(path)) return open(path);
  }
  throw new ModelNotFoundError(`${folder} has none of ${candidates.map(([file]) => file).join(', ')}`);
}
