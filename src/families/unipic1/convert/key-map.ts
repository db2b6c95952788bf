import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { isFloatDtype, type TensorDtype } from '../../../formats/tensor-dtype.js';
import type { CheckpointConfig } from './checkpoint-config.js';

/**
 * Key accounting for a UniPic checkpoint: every key is required, knowingly ignored, or
 * reported as unknown. The weights loader uses `strict=False`, so nothing upstream checks this.
 */

/** Keys present in official checkpoints that no released inference path uses. */
export const IGNORED_KEY_PATTERNS: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /^mar\.class_emb\./, why: 'ImageNet class embedding left over from MAR; unused by UniPic' },
  { pattern: /^siglip2\./, why: 'SigLIP2 tower: never called by the released code' },
  { pattern: /^siglip2_proj\./, why: 'SigLIP2 projector: never called by the released code' },
  { pattern: /^llm\.lm_head\.weight$/, why: 'tie_word_embeddings is true: the head is llm.model.embed_tokens.weight (checked equal)' },
  { pattern: /^llm\.model\.rotary_emb\./, why: 'RoPE buffers are recomputed from rope_theta' },
  { pattern: /^mar\.diffloss\.(?!net\.)/, why: 'diffusion schedule buffers are recomputed from the config' },
  // LDM training checkpoints keep the LPIPS/discriminator loss beside the autoencoder; MAR's
  // AutoencoderKL has no such module and loads kl16.ckpt with strict=False, dropping them.
  { pattern: /^vae\.loss\./, why: 'autoencoder training loss (LPIPS, discriminator): not part of the AutoencoderKL the official code builds' },
];

/** Prefixes of the modules the graphs are built from: an unknown key under one is refused. */
const USED_MODULES = /^(llm\.|mar\.|proj_in\.|proj_out\.|vae\.)/;

/** Why a key outside every used module is ignored. */
export const FOREIGN_KEY_REASON = 'matches no module of the UniPic-1 model; the official loader (load_state_dict with strict=False) drops it too';

type Spec = [key: string, shape: number[]];

/** A torch Linear (`[out, in]` weight) or any affine pair (norms pass `inputs` = 0 for a 1-D weight). */
function linear(prefix: string, outputs: number, inputs: number, bias = true): Spec[] {
  const weight: Spec = [`${prefix}.weight`, inputs ? [outputs, inputs] : [outputs]];
  return bias ? [weight, [`${prefix}.bias`, [outputs]]] : [weight];
}
const norm = (prefix: string, width: number): Spec[] => linear(prefix, width, 0);
const conv = (prefix: string, outputs: number, inputs: number, kernel: number): Spec[] => [
  [`${prefix}.weight`, [outputs, inputs, kernel, kernel]],
  [`${prefix}.bias`, [outputs]],
];

function llmTensors(s: CheckpointConfig): Spec[] {
  const h = s.llm.hidden_size;
  const kv = (h / s.llm.num_attention_heads) * s.llm.num_key_value_heads;
  const inter = s.llm.intermediate_size;
  const specs: Spec[] = [
    ['llm.model.embed_tokens.weight', [s.llm.vocab_size, h]],
    ['llm.model.norm.weight', [h]],
  ];
  // An untied head is its own weight (from_pretrained builds a separate Linear).
  if (!s.llm.tie_word_embeddings) specs.push(['llm.lm_head.weight', [s.llm.vocab_size, h]]);
  for (let i = 0; i < s.llm.num_hidden_layers; i++) {
    const p = `llm.model.layers.${i}`;
    specs.push(
      ...linear(`${p}.self_attn.q_proj`, h, h),
      ...linear(`${p}.self_attn.k_proj`, kv, h),
      ...linear(`${p}.self_attn.v_proj`, kv, h),
      ...linear(`${p}.self_attn.o_proj`, h, h, false),
      ...linear(`${p}.mlp.gate_proj`, inter, h, false),
      ...linear(`${p}.mlp.up_proj`, inter, h, false),
      ...linear(`${p}.mlp.down_proj`, h, inter, false),
      [`${p}.input_layernorm.weight`, [h]],
      [`${p}.post_attention_layernorm.weight`, [h]],
    );
  }
  return specs;
}

function vitBlocks(prefix: string, depth: number, width: number, mlpRatio: number): Spec[] {
  const hidden = Math.round(width * mlpRatio);
  const specs: Spec[] = [];
  for (let i = 0; i < depth; i++) {
    const p = `${prefix}.${i}`;
    specs.push(
      ...norm(`${p}.norm1`, width),
      ...linear(`${p}.attn.qkv`, 3 * width, width),
      ...linear(`${p}.attn.proj`, width, width),
      ...norm(`${p}.norm2`, width),
      ...linear(`${p}.mlp.fc1`, hidden, width),
      ...linear(`${p}.mlp.fc2`, width, hidden),
    );
  }
  return specs;
}

function marTensors(s: CheckpointConfig): Spec[] {
  const { encoder_embed_dim: we, decoder_embed_dim: wd, buffer_size: f, token_embed_dim: c, mlp_ratio: r } = s.mar;
  const grid = s.mar.img_size / s.mar.vae_stride;
  const n = grid * grid;
  const h = s.llm.hidden_size;
  return [
    ['mar.fake_latent', [1, we]],
    ['mar.mask_token', [1, 1, wd]],
    ['mar.encoder_pos_embed_learned', [1, f + n, we]],
    ['mar.decoder_pos_embed_learned', [1, f + n, wd]],
    ['mar.diffusion_pos_embed_learned', [1, n, wd]],
    ...linear('mar.z_proj', we, c),
    ...norm('mar.z_proj_ln', we),
    ...vitBlocks('mar.encoder_blocks', s.mar.encoder_depth, we, r),
    ...norm('mar.encoder_norm', we),
    ...linear('mar.decoder_embed', wd, we),
    ...vitBlocks('mar.decoder_blocks', s.mar.decoder_depth, wd, r),
    ...norm('mar.decoder_norm', wd),
    ...linear('proj_in.0', h, we),
    ...linear('proj_in.2', h, h),
    ...linear('proj_out.0', h, h),
    ...linear('proj_out.2', we, h),
  ];
}

function diffusionTensors(s: CheckpointConfig): Spec[] {
  const p = 'mar.diffloss.net';
  const w = s.diffloss.width;
  const c = s.diffloss.target_channels;
  const specs: Spec[] = [
    ...linear(`${p}.input_proj`, w, c),
    ...linear(`${p}.cond_embed`, w, s.diffloss.z_channels),
    ...linear(`${p}.time_embed.mlp.0`, w, 256),
    ...linear(`${p}.time_embed.mlp.2`, w, w),
  ];
  for (let i = 0; i < s.diffloss.depth; i++) {
    const b = `${p}.res_blocks.${i}`;
    specs.push(...norm(`${b}.in_ln`, w), ...linear(`${b}.mlp.0`, w, w), ...linear(`${b}.mlp.2`, w, w), ...linear(`${b}.adaLN_modulation.1`, 3 * w, w));
  }
  specs.push(...linear(`${p}.final_layer.linear`, 2 * c, w), ...linear(`${p}.final_layer.adaLN_modulation.1`, 2 * w, w));
  return specs;
}

/** LDM AutoencoderKL tensors (kl16.ckpt's `model` dict), under the `vae.` prefix. */
function vaeTensors(s: CheckpointConfig): Spec[] {
  const { ch, ch_mult: mult, num_res_blocks: blocks, attn_resolution_level: attnLevel, embed_dim: latent, z_channels: zc } = s.vae;
  const specs: Spec[] = [];
  const resnet = (p: string, inCh: number, outCh: number) => {
    specs.push(...norm(`${p}.norm1`, inCh), ...conv(`${p}.conv1`, outCh, inCh, 3), ...norm(`${p}.norm2`, outCh), ...conv(`${p}.conv2`, outCh, outCh, 3));
    if (inCh !== outCh) specs.push(...conv(`${p}.nin_shortcut`, outCh, inCh, 1));
  };
  const attn = (p: string, c: number) => {
    specs.push(...norm(`${p}.norm`, c));
    for (const part of ['q', 'k', 'v', 'proj_out']) specs.push(...conv(`${p}.${part}`, c, c, 1));
  };
  specs.push(...conv('vae.encoder.conv_in', ch, 3, 3));
  let channels = ch;
  mult.forEach((m, level) => {
    const out = ch * m;
    for (let b = 0; b < blocks; b++) {
      resnet(`vae.encoder.down.${level}.block.${b}`, b === 0 ? channels : out, out);
      if (level === attnLevel) attn(`vae.encoder.down.${level}.attn.${b}`, out);
    }
    channels = out;
    if (level !== mult.length - 1) specs.push(...conv(`vae.encoder.down.${level}.downsample.conv`, out, out, 3));
  });
  resnet('vae.encoder.mid.block_1', channels, channels);
  attn('vae.encoder.mid.attn_1', channels);
  resnet('vae.encoder.mid.block_2', channels, channels);
  specs.push(
    ...norm('vae.encoder.norm_out', channels),
    ...conv('vae.encoder.conv_out', 2 * zc, channels, 3),
    ...conv('vae.quant_conv', 2 * latent, 2 * zc, 1),
    ...conv('vae.post_quant_conv', zc, latent, 1),
  );

  channels = ch * mult[mult.length - 1];
  specs.push(...conv('vae.decoder.conv_in', channels, zc, 3));
  resnet('vae.decoder.mid.block_1', channels, channels);
  attn('vae.decoder.mid.attn_1', channels);
  resnet('vae.decoder.mid.block_2', channels, channels);
  for (let level = mult.length - 1; level >= 0; level--) {
    const out = ch * mult[level];
    for (let b = 0; b <= blocks; b++) resnet(`vae.decoder.up.${level}.block.${b}`, b === 0 ? channels : out, out);
    channels = out;
    if (level !== 0) specs.push(...conv(`vae.decoder.up.${level}.upsample.conv`, out, out, 3));
  }
  specs.push(...norm('vae.decoder.norm_out', channels), ...conv('vae.decoder.conv_out', 3, channels, 3));
  return specs;
}

/** Every tensor the converter needs, with its expected shape. */
export function requiredTensors(s: CheckpointConfig): Map<string, number[]> {
  return new Map([...llmTensors(s), ...marTensors(s), ...diffusionTensors(s), ...vaeTensors(s)]);
}

export interface KeyAccount {
  readonly required: readonly string[];
  readonly missing: readonly string[];
  readonly ignored: ReadonlyArray<{ key: string; why: string }>;
  /** Keys under a module the graphs use that the converter does not know: refused. */
  readonly unknown: readonly string[];
  /** Required keys present with another shape. */
  readonly misshapen: ReadonlyArray<{ key: string; expected: number[]; actual: readonly number[] }>;
}

export function requiredKeys(s: CheckpointConfig): string[] {
  return [...requiredTensors(s).keys()];
}

/** Sort every present key into required / ignored / unknown, and list required keys absent. */
export function accountKeys(s: CheckpointConfig, present: ReadonlyMap<string, readonly number[]>): KeyAccount {
  const tensors = requiredTensors(s);
  const required = [...tensors.keys()];
  const requiredSet = new Set(required);
  const presentSet = new Set(present.keys());
  const misshapen: KeyAccount['misshapen'][number][] = [];
  for (const [key, expected] of tensors) {
    const actual = present.get(key);
    if (actual && (actual.length !== expected.length || actual.some((d, i) => d !== expected[i]))) misshapen.push({ key, expected, actual });
  }
  const ignored: { key: string; why: string }[] = [];
  const unknown: string[] = [];
  for (const key of presentSet) {
    if (requiredSet.has(key)) continue;
    const rule = IGNORED_KEY_PATTERNS.find((r) => r.pattern.test(key));
    if (rule) ignored.push({ key, why: rule.why });
    else if (!USED_MODULES.test(key)) ignored.push({ key, why: FOREIGN_KEY_REASON });
    else unknown.push(key);
  }
  return { required, missing: required.filter((k) => !presentSet.has(k)), ignored, unknown: unknown.sort(), misshapen };
}

/**
 * Refuses a checkpoint the converter cannot use: required keys missing, present with another
 * shape, or not floating point. Runs before anything is written, so a refused checkpoint leaves
 * no half-converted folder behind.
 */
export function refuseUnusable(keys: KeyAccount, dtypeOf: (key: string) => TensorDtype): void {
  if (keys.unknown.length) {
    const listed = keys.unknown.slice(0, 10).join(', ');
    throw new InvalidModelError(
      `${keys.unknown.length} checkpoint keys belong to modules unipic converts but are not part of the structure it inferred: ${listed}${keys.unknown.length > 10 ? ', …' : ''} (a checkpoint built by other code, or a structure that does not match its weights)`,
      { details: { unknown: keys.unknown } },
    );
  }
  if (keys.missing.length) {
    const listed = keys.missing.slice(0, 20).join(', ');
    throw new InvalidModelError(`the checkpoint lacks ${keys.missing.length} required weights: ${listed}${keys.missing.length > 20 ? ', …' : ''}`, {
      details: { missing: keys.missing },
    });
  }
  if (keys.misshapen.length) {
    const first = keys.misshapen[0];
    throw new InvalidModelError(
      `${keys.misshapen.length} weights have unexpected shapes, e.g. ${first.key}: [${first.actual.join(', ')}] instead of [${first.expected.join(', ')}]`,
      { details: { misshapen: keys.misshapen } },
    );
  }
  const notFloat = keys.required.filter((key) => !isFloatDtype(dtypeOf(key))).map((key) => ({ key, dtype: dtypeOf(key) }));
  if (notFloat.length) {
    throw new InvalidModelError(`${notFloat.length} weights are not floating point, e.g. ${notFloat[0].key} is ${notFloat[0].dtype}`, {
      details: { notFloat },
    });
  }
}
