import { InvalidInputError } from '../../../errors/invalid-input-error.js';

/**
 * True CFG with norm rescale (the official pipeline's `true_cfg_scale` path): `c = u + s(v_c − u)`, then `c · ‖v_c‖ / ‖c‖` per token,
 * norms over the last (packed-channel) axis of `[tokens, channels]`.
 */
export function trueCfgNormRescale(cond: Float32Array, uncond: Float32Array, scale: number, channels: number): Float32Array {
  if (cond.length !== uncond.length || cond.length % channels !== 0) {
    throw new InvalidInputError(`CFG inputs must be [tokens, ${channels}] of equal size (${cond.length} vs ${uncond.length})`);
  }
  const out = new Float32Array(cond.length);
  for (let start = 0; start < cond.length; start += channels) {
    let condSquares = 0;
    let combinedSquares = 0;
    for (let i = start; i < start + channels; i++) {
      const combined = Math.fround(uncond[i] + Math.fround(scale * Math.fround(cond[i] - uncond[i])));
      out[i] = combined;
      condSquares += cond[i] * cond[i];
      combinedSquares += combined * combined;
    }
    const ratio = Math.fround(Math.fround(Math.sqrt(condSquares)) / Math.fround(Math.sqrt(combinedSquares)));
    for (let i = start; i < start + channels; i++) out[i] = Math.fround(out[i] * ratio);
  }
  return out;
}
