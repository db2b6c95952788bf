import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledTokenizerDir } from '../../../../convert/bundled-assets.js';
import tinyConfig from './tiny-config.json';
import { checkpointConfigSchema, type CheckpointConfig } from '../checkpoint-config.js';
import { STRUCTURE_FILE } from '../resolve-checkpoint-config.js';
import { writeKl16Checkpoint, writeTorchCheckpoint, type TorchTensorInput } from '../../../../convert/writers/torch-checkpoint-writer.js';
import { randomUniPicState, type StateTensor } from './random-state.js';

const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json'];

/** The tiny structure shipped with unipic (src/convert/tiny/tiny-config.json). */
export function tinyCheckpointConfig(): CheckpointConfig {
  return checkpointConfigSchema.parse(tinyConfig);
}

function bytesOf(tensor: StateTensor): TorchTensorInput {
  const { data } = tensor;
  return { dtype: 'float32', shape: tensor.shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export interface MakeTinyOptions {
  readonly seed?: number;
  readonly structure?: CheckpointConfig;
  /** Folder holding the Qwen2.5 tokenizer files to copy (default: the ones bundled with unipic). */
  readonly tokenizerDir?: string;
}

/**
 * Write a seeded random UniPic checkpoint in the official layout and file formats, with tiny
 * widths and depths: `pytorch_model.bin` (torch zip + pickle), `kl16.ckpt` (`{"model": …}`), and a
 * `Qwen2.5-1.5B-Instruct/` folder with `config.json` and the real tokenizer files, plus
 * `unipic-config.json` stating the tiny structure.
 */
export async function makeTinyCheckpoint(directory: string, options: MakeTinyOptions = {}): Promise<CheckpointConfig> {
  const structure = options.structure ?? tinyCheckpointConfig();
  const state = randomUniPicState(structure, options.seed);
  await mkdir(directory, { recursive: true });
  const unipic: [string, TorchTensorInput][] = [];
  const vae: [string, TorchTensorInput][] = [];
  for (const [key, tensor] of state) {
    if (key.startsWith('vae.')) vae.push([key.slice(4), bytesOf(tensor)]);
    else unipic.push([key, bytesOf(tensor)]);
  }
  // Tied head saved as torch does: the same storage under a second name.
  const embed = unipic.find(([key]) => key === 'llm.model.embed_tokens.weight')![1];
  const storage = { dtype: 'float32' as const, data: embed.data! };
  unipic.splice(
    unipic.findIndex(([key]) => key === 'llm.model.embed_tokens.weight'),
    1,
    ['llm.model.embed_tokens.weight', { dtype: 'float32', shape: embed.shape, storage }],
  );
  unipic.push(['llm.lm_head.weight', { dtype: 'float32', shape: embed.shape, storage }]);
  await writeTorchCheckpoint(join(directory, 'pytorch_model.bin'), unipic);
  await writeKl16Checkpoint(join(directory, 'kl16.ckpt'), vae);

  const qwen = join(directory, 'Qwen2.5-1.5B-Instruct');
  await mkdir(qwen, { recursive: true });
  const llm = structure.llm;
  await writeFile(
    join(qwen, 'config.json'),
    JSON.stringify(
      {
        architectures: ['Qwen2ForCausalLM'],
        model_type: 'qwen2',
        hidden_act: 'silu',
        torch_dtype: 'float32',
        use_sliding_window: false,
        sliding_window: llm.max_position_embeddings,
        attention_dropout: 0,
        ...llm,
      },
      null,
      2,
    ),
  );
  // Qwen2.5-1.5B-Instruct's generation_config.json, as the official layout ships it.
  await writeFile(
    join(qwen, 'generation_config.json'),
    JSON.stringify(
      {
        bos_token_id: 151643,
        do_sample: true,
        eos_token_id: [151645, 151643],
        pad_token_id: 151643,
        repetition_penalty: 1.1,
        temperature: 0.7,
        top_k: 20,
        top_p: 0.8,
        transformers_version: '4.45.2',
      },
      null,
      2,
    ),
  );
  const tokenizerDir = options.tokenizerDir ?? bundledTokenizerDir();
  for (const file of TOKENIZER_FILES) await copyFile(join(tokenizerDir, file), join(qwen, file));
  await writeFile(join(directory, STRUCTURE_FILE), JSON.stringify(structure, null, 2));
  return structure;
}
