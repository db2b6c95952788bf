import { SeededRandom } from '../../../../core/random/random-source.js';
import { requiredTensors } from '../key-map.js';
import type { CheckpointConfig } from '../checkpoint-config.js';

export interface StateTensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

/**
 * A seeded random UniPic state dict with the official key names and shapes for `structure`.
 * Scales keep activations of order one through every block (fan-in scaled linears, norm gains
 * near 1), so tiny-model outputs are not degenerate. Includes a few keys a real checkpoint
 * carries but inference ignores, so the converter's accounting is exercised.
 */
export function randomUniPicState(structure: CheckpointConfig, seed = structure.seed ?? 1234): Map<string, StateTensor> {
  const random = new SeededRandom(seed);
  const state = new Map<string, StateTensor>();
  const fill = (key: string, shape: number[]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const noise = random.normal(count, { kind: 'token-sample', position: 0 });
    const data = new Float32Array(count);
    const last = key.split('.').pop();
    const isNormGain = last === 'weight' && shape.length === 1;
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const scale = isNormGain ? 0.1 : last === 'bias' ? 0.02 : shape.length >= 2 ? 1 / Math.sqrt(fanIn) : 0.02;
    for (let i = 0; i < count; i++) data[i] = (isNormGain ? 1 : 0) + scale * noise[i];
    state.set(key, { shape, data });
  };
  for (const [key, shape] of requiredTensors(structure)) {
    // Tables and learned tokens: unit-scale values like trained embeddings.
    if (/pos_embed_learned|fake_latent|mask_token|embed_tokens/.test(key)) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from(random.normal(count, { kind: 'token-sample', position: 0 }), (v) => v * 0.5);
      state.set(key, { shape, data });
    } else {
      fill(key, shape);
    }
  }
  // Present in official checkpoints, ignored by inference.
  fill('mar.class_emb.weight', [structure.mar.class_num, structure.mar.encoder_embed_dim]);
  fill('siglip2_proj.0.weight', [structure.llm.hidden_size, 8]);
  fill('siglip2_proj.0.bias', [structure.llm.hidden_size]);
  fill('siglip2.vision_model.post_layernorm.weight', [8]);
  return state;
}
