import { describe, expect, it } from 'vitest';
import { accountKeys, IGNORED_KEY_PATTERNS, refuseUnusable, requiredTensors } from '../../src/families/unipic1/convert/key-map.js';
import { UNIPIC_1_5B } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function parameters(structure = UNIPIC_1_5B, keep: (key: string) => boolean = () => true): number {
  let total = 0;
  for (const [key, shape] of requiredTensors(structure)) if (keep(key)) total += count(shape);
  return total;
}

describe('requiredTensors matches the published sizes of the parts', () => {
  it('Qwen2.5-1.5B: 1.54 B parameters, 1.31 B without the embedding (Qwen2.5 model card, rounded to 0.01 B)', () => {
    const llm = parameters(UNIPIC_1_5B, (key) => key.startsWith('llm.'));
    const embedding = count(requiredTensors(UNIPIC_1_5B).get('llm.model.embed_tokens.weight')!);
    // Tolerance: the card's rounding, ±0.005 B.
    expect(Math.abs(llm / 1e9 - 1.54)).toBeLessThanOrEqual(0.005);
    expect(Math.abs((llm - embedding) / 1e9 - 1.31)).toBeLessThanOrEqual(0.005);
  });

  it('MAR-H at 256 px, with its ImageNet class embedding: 943 M (MAR README)', () => {
    // The README's MAR-H is the 256 px ImageNet model; UniPic adds proj_in/proj_out (not MAR) and
    // drops class_emb (1000 × 1280) from use. Tolerance 1 M: below the smallest linear layer
    // (1280 × 1280 = 1.6 M), above the README's rounding.
    const mar256 = { ...UNIPIC_1_5B, mar: { ...UNIPIC_1_5B.mar, img_size: 256 } };
    const mar = parameters(mar256, (key) => key.startsWith('mar.')) + 1000 * 1280;
    expect(Math.abs(mar / 1e6 - 943)).toBeLessThanOrEqual(1);
  });

  it('UniPic-1.5B: 1261 required tensors, none of them matched by an ignore rule', () => {
    const keys = [...requiredTensors(UNIPIC_1_5B).keys()];
    expect(keys).toHaveLength(1261);
    for (const { pattern } of IGNORED_KEY_PATTERNS)
      expect(
        keys.filter((key) => pattern.test(key)),
        String(pattern),
      ).toEqual([]);
  });
});

describe('accountKeys', () => {
  const structure = tinyCheckpointConfig();
  const required = requiredTensors(structure);

  it('sorts every present key into required, ignored (with the reason) or unknown (refused)', () => {
    const present = new Map<string, readonly number[]>(required);
    const extras: Record<string, string> = {
      'mar.class_emb.weight': 'ImageNet class embedding',
      'siglip2.vision_model.encoder.layers.0.mlp.fc1.weight': 'SigLIP2 tower',
      'siglip2_proj.0.weight': 'SigLIP2 projector',
      'llm.lm_head.weight': 'tie_word_embeddings is true',
      'llm.model.rotary_emb.inv_freq': 'RoPE buffers',
      'mar.diffloss.betas': 'schedule buffers',
      'vae.loss.discriminator.main.0.weight': 'training loss',
      // Outside every module UniPic-1 has: the official strict=False loader drops it as well.
      optimizer_state: 'matches no module of the UniPic-1 model',
    };
    for (const key of Object.keys(extras)) present.set(key, [2]);
    // Inside modules the converter uses, an extra key is a surprise, not something to drop quietly.
    present.set('mar.diffloss.net.res_blocks.0.extra_gate', [2]);
    present.set('llm.model.layers.0.self_attn.q_norm.weight', [2]);

    const account = accountKeys(structure, present);
    expect(account.required).toEqual([...required.keys()]);
    expect(account.missing).toEqual([]);
    expect(account.misshapen).toEqual([]);
    expect(account.unknown).toEqual(['llm.model.layers.0.self_attn.q_norm.weight', 'mar.diffloss.net.res_blocks.0.extra_gate']);
    expect(account.ignored.map((entry) => entry.key).sort()).toEqual(Object.keys(extras).sort());
    for (const entry of account.ignored) expect(entry.why, entry.key).toContain(extras[entry.key]);
  });

  it('lists missing keys and keys with another shape (rank or sizes)', () => {
    const present = new Map<string, readonly number[]>(required);
    present.delete('vae.decoder.conv_out.bias');
    present.delete('mar.z_proj.weight');
    const [rows, columns] = required.get('proj_in.0.weight')!;
    present.set('proj_in.0.weight', [columns, rows]);
    present.set('llm.model.norm.weight', [1, required.get('llm.model.norm.weight')![0]]);
    const account = accountKeys(structure, present);
    expect([...account.missing].sort()).toEqual(['mar.z_proj.weight', 'vae.decoder.conv_out.bias']);
    expect(account.misshapen).toEqual([
      { key: 'llm.model.norm.weight', expected: required.get('llm.model.norm.weight'), actual: [1, required.get('llm.model.norm.weight')![0]] },
      { key: 'proj_in.0.weight', expected: [rows, columns], actual: [columns, rows] },
    ]);
  });
});

describe('refuseUnusable', () => {
  const structure = tinyCheckpointConfig();
  const required = requiredTensors(structure);

  it('passes a complete float checkpoint and refuses missing, then misshapen, then non-float keys', () => {
    const float = () => 'bfloat16' as const;
    expect(() => refuseUnusable(accountKeys(structure, required), float)).not.toThrow();

    const missingAndMisshapen = new Map<string, readonly number[]>(required);
    missingAndMisshapen.delete('mar.fake_latent');
    missingAndMisshapen.set('mar.mask_token', [7]);
    expect(() => refuseUnusable(accountKeys(structure, missingAndMisshapen), float)).toThrow(/lacks 1 required weights: mar\.fake_latent/);
    missingAndMisshapen.set('mar.fake_latent', required.get('mar.fake_latent')!);
    expect(() => refuseUnusable(accountKeys(structure, missingAndMisshapen), float)).toThrow(/1 weights have unexpected shapes, e\.g\. mar\.mask_token: \[7\]/);

    const error = (() => {
      try {
        refuseUnusable(accountKeys(structure, required), (key) => (key.startsWith('vae.') ? 'int64' : 'float32'));
      } catch (caught) {
        return caught as InvalidModelError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidModelError);
    const vaeKeys = [...required.keys()].filter((key) => key.startsWith('vae.'));
    expect(error!.message).toBe(`${vaeKeys.length} weights are not floating point, e.g. ${vaeKeys[0]} is int64`);
  });
});
