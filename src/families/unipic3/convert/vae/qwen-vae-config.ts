import { InvalidModelError } from '../../../../errors/invalid-model-error.js';

/** The fields of `vae/config.json` (`AutoencoderKLQwenImage`) the 2-D image graphs use. */
export interface QwenVaeConfig {
  readonly baseDim: number;
  readonly zDim: number;
  readonly dimMult: readonly number[];
  readonly numResBlocks: number;
  readonly latentsMean: readonly number[];
  readonly latentsStd: readonly number[];
}

/**
 * Fields read but knowingly without effect on single-frame graphs: `temperal_downsample` only
 * decides which resamplers carry a `time_conv` (never executed for one frame);
 * `dropout` is inactive at inference. Anything that would change the graph is refused.
 */
export const QWEN_VAE_IGNORED_FIELDS: Readonly<Record<string, string>> = {
  temperal_downsample: 'selects time_conv resamplers, which never run on a single frame',
  dropout: 'inactive at inference',
  _class_name: 'metadata',
  _diffusers_version: 'metadata',
};

const DEFAULTS = { base_dim: 96, z_dim: 16, dim_mult: [1, 2, 4, 4], num_res_blocks: 2, attn_scales: [] as number[] };

export function qwenVaeConfigFromJson(json: Record<string, unknown>): QwenVaeConfig {
  const known = new Set([...Object.keys(DEFAULTS), 'latents_mean', 'latents_std', ...Object.keys(QWEN_VAE_IGNORED_FIELDS)]);
  for (const key of Object.keys(json)) {
    if (!known.has(key)) throw new InvalidModelError(`vae/config.json: unknown field "${key}" (not supported by the UniPic-3 VAE graphs)`);
  }
  const merged = { ...DEFAULTS, ...json } as Record<string, unknown>;
  const attnScales = merged.attn_scales as unknown[];
  if (!Array.isArray(attnScales) || attnScales.length > 0) {
    throw new InvalidModelError('vae/config.json: attn_scales must be [] (Qwen-Image VAE has attention only in the mid blocks)');
  }
  const int = (name: string): number => {
    const value = merged[name];
    if (!Number.isInteger(value) || (value as number) <= 0) throw new InvalidModelError(`vae/config.json: ${name} must be a positive integer`);
    return value as number;
  };
  const numbers = (name: string, length: number): number[] => {
    const value = merged[name];
    if (!Array.isArray(value) || value.length !== length || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new InvalidModelError(`vae/config.json: ${name} must be ${length} finite numbers`);
    }
    return value as number[];
  };
  const zDim = int('z_dim');
  const dimMult = merged.dim_mult as unknown[];
  if (!Array.isArray(dimMult) || dimMult.length < 2 || !dimMult.every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw new InvalidModelError('vae/config.json: dim_mult must list at least two positive integers');
  }
  const latentsStd = numbers('latents_std', zDim);
  if (latentsStd.some((v) => v <= 0)) throw new InvalidModelError('vae/config.json: latents_std must be positive');
  return {
    baseDim: int('base_dim'),
    zDim,
    dimMult: dimMult as number[],
    numResBlocks: int('num_res_blocks'),
    latentsMean: numbers('latents_mean', zDim),
    latentsStd,
  };
}

/** Spatial factor between pixels and latents (8 for the published VAE). */
export function qwenVaeScaleFactor(config: QwenVaeConfig): number {
  return 2 ** (config.dimMult.length - 1);
}
