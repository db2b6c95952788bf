import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { isFloatDtype } from '../../../formats/tensor-dtype.js';
import type { TensorDescriptor } from '../../../convert/readers/tensor-descriptor.js';
import type { QwenVaeConfig } from './vae/qwen-vae-config.js';
import type { QwenTransformerConfig } from './transformer/qwen-transformer-config.js';

/**
 * Key accounting for UniPic-3's transformer and VAE checkpoints: every key is expected (with its
 * exact shape), knowingly dropped (with the reason), or the conversion is refused. Works on
 * descriptors only, so it runs before a single weight byte is read.
 */

export type KeySpec = readonly [key: string, shape: readonly number[]];

export interface DroppedKey {
  readonly key: string;
  readonly why: string;
}

export interface KeyAccount {
  readonly used: readonly string[];
  readonly dropped: readonly DroppedKey[];
}

/** Keys the published VAE carries that single-image inference never executes (the `time_conv`s of diffusers `AutoencoderKLQwenImage`). */
export const QWEN_VAE_DROPPED_KEYS: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  {
    pattern: /^encoder\.down_blocks\.\d+\.time_conv\.(weight|bias)$/,
    why: 'temporal downsample conv: runs only with a cached previous chunk, never for a single frame',
  },
  {
    pattern: /^decoder\.up_blocks\.\d+\.upsamplers\.0\.time_conv\.(weight|bias)$/,
    why: 'temporal upsample conv: skipped on the first chunk ("Rep"), never executed for a single frame',
  },
];

const linear = (prefix: string, outputs: number, inputs: number): KeySpec[] => [
  [`${prefix}.weight`, [outputs, inputs]],
  [`${prefix}.bias`, [outputs]],
];

export function qwenTransformerKeySpecs(config: QwenTransformerConfig): KeySpec[] {
  const width = config.heads * config.headDim;
  const specs: KeySpec[] = [
    ...linear('img_in', width, config.inChannels),
    ['txt_norm.weight', [config.jointAttentionDim]],
    ...linear('txt_in', width, config.jointAttentionDim),
    ...linear('time_text_embed.timestep_embedder.linear_1', width, 256),
    ...linear('time_text_embed.timestep_embedder.linear_2', width, width),
    ...linear('norm_out.linear', 2 * width, width),
    ...linear('proj_out', config.patchSize * config.patchSize * config.outChannels, width),
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `transformer_blocks.${i}`;
    for (const stream of ['img', 'txt']) {
      specs.push(...linear(`${p}.${stream}_mod.1`, 6 * width, width));
      specs.push(...linear(`${p}.${stream}_mlp.net.0.proj`, 4 * width, width), ...linear(`${p}.${stream}_mlp.net.2`, width, 4 * width));
    }
    for (const name of ['to_q', 'to_k', 'to_v', 'add_q_proj', 'add_k_proj', 'add_v_proj', 'to_out.0', 'to_add_out']) {
      specs.push(...linear(`${p}.attn.${name}`, width, width));
    }
    for (const name of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) specs.push([`${p}.attn.${name}.weight`, [config.headDim]]);
  }
  return specs;
}

/** Expected VAE keys with their published 3-D shapes (causal convs `[out, in, 3, 3, 3]`). */
export function qwenVaeKeySpecs(config: QwenVaeConfig): KeySpec[] {
  const specs: KeySpec[] = [];
  const conv3d = (prefix: string, outputs: number, inputs: number, kernel: number): void => {
    specs.push([`${prefix}.weight`, [outputs, inputs, kernel, kernel, kernel]], [`${prefix}.bias`, [outputs]]);
  };
  const conv2d = (prefix: string, outputs: number, inputs: number, kernel: number): void => {
    specs.push([`${prefix}.weight`, [outputs, inputs, kernel, kernel]], [`${prefix}.bias`, [outputs]]);
  };
  const residual = (prefix: string, inputs: number, outputs: number): void => {
    specs.push([`${prefix}.norm1.gamma`, [inputs, 1, 1, 1]], [`${prefix}.norm2.gamma`, [outputs, 1, 1, 1]]);
    conv3d(`${prefix}.conv1`, outputs, inputs, 3);
    conv3d(`${prefix}.conv2`, outputs, outputs, 3);
    if (inputs !== outputs) conv3d(`${prefix}.conv_shortcut`, outputs, inputs, 1);
  };
  const mid = (prefix: string, dim: number): void => {
    residual(`${prefix}.resnets.0`, dim, dim);
    specs.push([`${prefix}.attentions.0.norm.gamma`, [dim, 1, 1]]);
    conv2d(`${prefix}.attentions.0.to_qkv`, 3 * dim, dim, 1);
    conv2d(`${prefix}.attentions.0.proj`, dim, dim, 1);
    residual(`${prefix}.resnets.1`, dim, dim);
  };
  const { baseDim, dimMult, numResBlocks, zDim } = config;
  const dims = [1, ...dimMult].map((m) => baseDim * m);
  conv3d('encoder.conv_in', dims[0], 3, 3);
  let index = 0;
  for (let level = 0; level < dimMult.length; level++) {
    let inputs = dims[level];
    for (let b = 0; b < numResBlocks; b++) {
      residual(`encoder.down_blocks.${index++}`, inputs, dims[level + 1]);
      inputs = dims[level + 1];
    }
    if (level !== dimMult.length - 1) conv2d(`encoder.down_blocks.${index++}.resample.1`, inputs, inputs, 3);
  }
  const deepest = dims[dims.length - 1];
  mid('encoder.mid_block', deepest);
  specs.push(['encoder.norm_out.gamma', [deepest, 1, 1, 1]]);
  conv3d('encoder.conv_out', 2 * zDim, deepest, 3);
  conv3d('quant_conv', 2 * zDim, 2 * zDim, 1);
  conv3d('post_quant_conv', zDim, zDim, 1);
  conv3d('decoder.conv_in', deepest, zDim, 3);
  mid('decoder.mid_block', deepest);
  const up = [dimMult[dimMult.length - 1], ...[...dimMult].reverse()].map((m) => baseDim * m);
  for (let level = 0; level < dimMult.length; level++) {
    let inputs = level > 0 ? up[level] / 2 : up[level];
    const outputs = up[level + 1];
    for (let b = 0; b <= numResBlocks; b++) {
      residual(`decoder.up_blocks.${level}.resnets.${b}`, inputs, outputs);
      inputs = outputs;
    }
    if (level !== dimMult.length - 1) conv2d(`decoder.up_blocks.${level}.upsamplers.0.resample.1`, outputs / 2, outputs, 3);
  }
  specs.push(['decoder.norm_out.gamma', [up[up.length - 1], 1, 1, 1]]);
  conv3d('decoder.conv_out', 3, up[up.length - 1], 3);
  return specs;
}

/**
 * Checks `tensors` against `specs`: every spec present with its shape and a float dtype, every
 * other key matched by `dropped` (reported) — anything else is refused.
 */
export function accountKeys(
  what: string,
  tensors: ReadonlyMap<string, TensorDescriptor>,
  specs: readonly KeySpec[],
  dropped: ReadonlyArray<{ pattern: RegExp; why: string }> = [],
): KeyAccount {
  const expected = new Map(specs.map(([key, shape]) => [key, shape]));
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const tensor = tensors.get(key);
    if (!tensor) problems.push(`missing ${key}`);
    else if (!isFloatDtype(tensor.dtype)) problems.push(`${key} is ${tensor.dtype}, not a float tensor`);
    else if (tensor.shape.join(',') !== shape.join(',')) problems.push(`${key} is [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  const droppedKeys: DroppedKey[] = [];
  for (const key of tensors.keys()) {
    if (expected.has(key)) continue;
    const reason = dropped.find(({ pattern }) => pattern.test(key));
    if (reason) droppedKeys.push({ key, why: reason.why });
    else problems.push(`unknown key ${key}`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('; ');
    throw new InvalidModelError(`${what}: ${problems.length} key problem(s): ${shown}${problems.length > 8 ? '; …' : ''}`);
  }
  return { used: [...expected.keys()], dropped: droppedKeys };
}
