import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bf16Tensor, mulberry32, TINY_QWEN25_VL_CONFIG, writeJson, writeTinyQwen25Vl } from '../../../../convert/graphs/qwen-vl/tiny-qwen25-vl.js';
import { writeSafetensorsFile } from '../../../../convert/writers/safetensors-file-writer.js';
import { QWEN25_VL_CHAT_TEMPLATE } from '../../../../core/qwen-vl/qwen25-vl-chat-template.js';
import { qwenTransformerKeySpecs, qwenVaeKeySpecs } from '../key-accounting.js';
import { qwenTransformerConfigFromJson } from '../transformer/qwen-transformer-config.js';
import { qwenVaeConfigFromJson } from '../vae/qwen-vae-config.js';

/** Tiny Qwen-Image transformer: published structure, text width = the tiny VLM's, 16 latent channels. */
export const TINY_UNIPIC3_TRANSFORMER = {
  _class_name: 'QwenImageTransformer2DModel',
  _diffusers_version: '0.35.2',
  patch_size: 2,
  in_channels: 64,
  out_channels: 16,
  num_layers: 2,
  attention_head_dim: 16,
  num_attention_heads: 3,
  joint_attention_dim: TINY_QWEN25_VL_CONFIG.hidden_size,
  guidance_embeds: false,
  axes_dims_rope: [8, 4, 4],
};

/** Published VAE structure (dim_mult [1,2,4,4], 2 res blocks, z 16) at base width 8, real latents mean/std. */
export const TINY_UNIPIC3_VAE = {
  _class_name: 'AutoencoderKLQwenImage',
  _diffusers_version: '0.35.2',
  base_dim: 8,
  z_dim: 16,
  dim_mult: [1, 2, 4, 4],
  num_res_blocks: 2,
  attn_scales: [],
  temperal_downsample: [false, true, true],
  dropout: 0.0,
  latents_mean: [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
  latents_std: [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916],
};

/** Qwen-Image-Edit's published scheduler_config.json. */
const SCHEDULER = {
  _class_name: 'FlowMatchEulerDiscreteScheduler',
  base_image_seq_len: 256,
  max_image_seq_len: 8192,
  base_shift: 0.5,
  max_shift: 0.9,
  shift: 1.0,
  shift_terminal: 0.02,
  time_shift_type: 'exponential',
  use_dynamic_shifting: true,
  num_train_timesteps: 1000,
};

/**
 * `unipic make-tiny <dir> --family unipic3`: a seeded random checkpoint in Qwen-Image-Edit's layout
 * (as Skywork/Unipic3-DMD ships it): `transformer/`, `vae/` (3-D convolution weights),
 * `text_encoder/` (tiny Qwen2.5-VL with its tokenizer),
 * `scheduler/`, `model_index.json`. bf16 safetensors throughout.
 */
export async function makeTinyUnipic3(directory: string, options: { seed?: number } = {}): Promise<void> {
  const random = mulberry32(options.seed ?? 0);
  const write = async (folder: string, config: Record<string, unknown>, specs: readonly (readonly [string, readonly number[]])[]) => {
    await mkdir(join(directory, folder), { recursive: true });
    await writeSafetensorsFile(
      join(directory, folder, 'diffusion_pytorch_model.safetensors'),
      specs.map(([name, shape]) => bf16Tensor(name, shape, random)),
      { format: 'pt' },
    );
    await writeJson(join(directory, folder, 'config.json'), config);
  };
  await write('transformer', TINY_UNIPIC3_TRANSFORMER, qwenTransformerKeySpecs(qwenTransformerConfigFromJson(TINY_UNIPIC3_TRANSFORMER)));
  const vae = qwenVaeConfigFromJson(TINY_UNIPIC3_VAE);
  // Without the time_conv weights the published VAE carries (never executed for one frame; the converter drops them).
  await write('vae', TINY_UNIPIC3_VAE, qwenVaeKeySpecs(vae));
  await writeTinyQwen25Vl(join(directory, 'text_encoder'), TINY_QWEN25_VL_CONFIG, QWEN25_VL_CHAT_TEMPLATE, random);
  await mkdir(join(directory, 'scheduler'), { recursive: true });
  await writeJson(join(directory, 'scheduler', 'scheduler_config.json'), SCHEDULER);
  await writeJson(join(directory, 'model_index.json'), {
    _class_name: 'QwenImageEditPipeline',
    scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
    text_encoder: ['transformers', 'Qwen2_5_VLForConditionalGeneration'],
    tokenizer: ['transformers', 'Qwen2Tokenizer'],
    transformer: ['diffusers', 'QwenImageTransformer2DModel'],
    vae: ['diffusers', 'AutoencoderKLQwenImage'],
  });
}
