import { positionAxes } from '../../core/diffusion/position-embedding.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { WeightSource } from '../graphs/weights.js';
import type { MmditStructure } from './diffusion-configs.js';
import { POSITION_TABLE_KEY as KEY } from './diffusion-shapes.js';

/**
 * Which rounding of the sin-cos table the checkpoint holds: the published
 * checkpoints went through bf16 (the official `transformer_sd3_kontext.py` saves in bf16), so their table is the bf16-rounded one, while a table saved in
 * float32 is the plain one. The runtime recomputes whichever matches the stored tensor exactly; a
 * table that matches neither is refused, since the transformer would then see other positions.
 */
export function detectPositionTableRounding(weights: WeightSource, transformer: MmditStructure, warnings: string[]): 'bfloat16' | 'float32' {
  const t = transformer;
  const base = { width: t.width, maxSize: t.posEmbedMaxSize, baseSize: t.sampleSize / t.patchSize, interpolationScale: 1 };
  if (!weights.has(KEY)) {
    warnings.push(`${KEY} is absent: assuming the float32 sin-cos table`);
    return 'float32';
  }
  const shape = weights.shape(KEY);
  const rows = t.posEmbedMaxSize ** 2;
  if (shape.join() !== [1, rows, t.width].join()) throw new InvalidModelError(`${KEY} is [${shape.join(', ')}], expected [1, ${rows}, ${t.width}]`);
  const stored = weights.float32(KEY);
  for (const rounding of ['bfloat16', 'float32'] as const) {
    // Row by row from the two axis halves: never a second 0.9 GB table in memory.
    const M = t.posEmbedMaxSize;
    const half = t.width / 2;
    const { rows, columns } = positionAxes({ ...base, rounding }, M, M);
    let equal = true;
    for (let token = 0; token < M * M && equal; token++) {
      const at = token * t.width;
      const column = columns[token % M];
      const row = rows[Math.floor(token / M)];
      for (let k = 0; k < half && equal; k++) equal = column[k] === stored[at + k] && row[k] === stored[at + half + k];
    }
    if (equal) return rounding;
  }
  throw new InvalidModelError(`${KEY} is not the SD3 2-D sin-cos table (in bf16 or float32); this converter recomputes that table and cannot reproduce another one`);
}
