import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryWeights } from '../../../src/convert/graphs/weights.js';
import { FrameSliceWeights } from '../../../src/families/unipic3/convert/vae/frame-slice-weights.js';
import { qwenVaeConfigFromJson } from '../../../src/families/unipic3/convert/vae/qwen-vae-config.js';
import { UNIPIC3_CHECKPOINT } from './support/unipic3-fixtures.js';

const vaeJson = JSON.parse(readFileSync(join(UNIPIC3_CHECKPOINT, 'vae', 'config.json'), 'utf8')) as Record<string, unknown>;

describe('UniPic-3 VAE config and 3-D kernel view', () => {
  it('reads the published fields and refuses what the 2-D graphs cannot do', () => {
    const config = qwenVaeConfigFromJson(vaeJson);
    expect(config.dimMult).toEqual([1, 2, 4, 4]);
    expect(config.latentsStd).toHaveLength(16);
    expect(() => qwenVaeConfigFromJson({ ...vaeJson, attn_scales: [0.5] })).toThrow(/attn_scales/);
    expect(() => qwenVaeConfigFromJson({ ...vaeJson, is_residual: true })).toThrow(/unknown field "is_residual"/);
    expect(() => qwenVaeConfigFromJson({ ...vaeJson, latents_std: [1, 2] })).toThrow(/latents_std/);
  });

  it('serves a causal 3-D kernel as its last temporal slice and gammas flat', () => {
    // [out 1, in 2, t 3, 1, 2]: value = 100·in + 10·t + x, so the slice is t = 2 for each input channel.
    const kernel = new Float32Array(12);
    for (let i = 0; i < 2; i++) for (let t = 0; t < 3; t++) for (let x = 0; x < 2; x++) kernel[(i * 3 + t) * 2 + x] = 100 * i + 10 * t + x;
    const view = new FrameSliceWeights(
      new MemoryWeights({
        'c.weight': { shape: [1, 2, 3, 1, 2], data: kernel },
        'n.gamma': { shape: [2, 1, 1, 1], data: Float32Array.from([3, 4]) },
      }),
    );
    expect(view.shape('c.weight')).toEqual([1, 2, 1, 2]);
    expect(Array.from(view.float32('c.weight'))).toEqual([20, 21, 120, 121]);
    expect(view.shape('n.gamma')).toEqual([2]);
    expect(Array.from(view.float32('n.gamma'))).toEqual([3, 4]);
  });
});
