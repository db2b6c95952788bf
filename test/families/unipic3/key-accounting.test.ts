import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountKeys, QWEN_VAE_DROPPED_KEYS, qwenTransformerKeySpecs, qwenVaeKeySpecs } from '../../../src/families/unipic3/convert/key-accounting.js';
import { openDiffusersComponent } from '../../../src/families/unipic3/convert/open-diffusers-component.js';
import { qwenTransformerConfigFromJson } from '../../../src/families/unipic3/convert/transformer/qwen-transformer-config.js';
import { qwenVaeConfigFromJson } from '../../../src/families/unipic3/convert/vae/qwen-vae-config.js';
import { UNIPIC3_CHECKPOINT } from './support/unipic3-fixtures.js';

const json = (folder: string): Record<string, unknown> => JSON.parse(readFileSync(join(UNIPIC3_CHECKPOINT, folder, 'config.json'), 'utf8'));

describe('UniPic-3 checkpoint key accounting', () => {
  it('sharded safetensors and the ema zip-pickle hold the same accounted transformer', async () => {
    const config = qwenTransformerConfigFromJson(json('transformer'));
    const sharded = await openDiffusersComponent(join(UNIPIC3_CHECKPOINT, 'transformer'));
    const pickled = await openDiffusersComponent(join(UNIPIC3_CHECKPOINT, 'ema_transformer'));
    try {
      expect(sharded.format).toBe('safetensors');
      expect(pickled.format).toBe('pytorch');
      const specs = qwenTransformerKeySpecs(config);
      const account = accountKeys('transformer', sharded.tensors, specs);
      expect(account.used).toHaveLength(sharded.tensors.size);
      expect(account.dropped).toEqual([]);
      expect(accountKeys('ema_transformer', pickled.tensors, specs).used).toEqual(account.used);
      for (const name of account.used) {
        expect(sharded.tensors.get(name)?.dtype).toBe('bfloat16');
        expect(await pickled.readFloat32(name)).toEqual(await sharded.readFloat32(name));
      }
    } finally {
      await sharded.close();
      await pickled.close();
    }
  });

  it('the VAE: every key used except the never-executed time_conv weights, each dropped with its reason', async () => {
    const vae = await openDiffusersComponent(join(UNIPIC3_CHECKPOINT, 'vae'));
    try {
      const account = accountKeys('vae', vae.tensors, qwenVaeKeySpecs(qwenVaeConfigFromJson(json('vae'))), QWEN_VAE_DROPPED_KEYS);
      // temperal_downsample [F, T, T]: two encoder downsamplers and two decoder upsamplers have one.
      expect(account.dropped.map((d) => d.key).sort()).toEqual([
        'decoder.up_blocks.0.upsamplers.0.time_conv.bias',
        'decoder.up_blocks.0.upsamplers.0.time_conv.weight',
        'decoder.up_blocks.1.upsamplers.0.time_conv.bias',
        'decoder.up_blocks.1.upsamplers.0.time_conv.weight',
        'encoder.down_blocks.5.time_conv.bias',
        'encoder.down_blocks.5.time_conv.weight',
        'encoder.down_blocks.8.time_conv.bias',
        'encoder.down_blocks.8.time_conv.weight',
      ]);
      expect(account.dropped.every((d) => /single frame/.test(d.why))).toBe(true);
      expect(account.used.length + account.dropped.length).toBe(vae.tensors.size);
    } finally {
      await vae.close();
    }
  });

  it('refuses missing, unknown and mis-shaped keys', async () => {
    const source = await openDiffusersComponent(join(UNIPIC3_CHECKPOINT, 'transformer'));
    try {
      const specs = qwenTransformerKeySpecs(qwenTransformerConfigFromJson(json('transformer')));
      const missing = new Map(source.tensors);
      missing.delete('txt_norm.weight');
      expect(() => accountKeys('t', missing, specs)).toThrow(/missing txt_norm\.weight/);
      const extra = new Map(source.tensors);
      extra.set('pos_embed.table', source.tensors.get('txt_norm.weight')!);
      expect(() => accountKeys('t', extra, specs)).toThrow(/unknown key pos_embed\.table/);
      const deeper = qwenTransformerKeySpecs({ ...qwenTransformerConfigFromJson(json('transformer')), numLayers: 3 });
      expect(() => accountKeys('t', source.tensors, deeper)).toThrow(/missing transformer_blocks\.2/);
      const wider = qwenTransformerKeySpecs({ ...qwenTransformerConfigFromJson(json('transformer')), jointAttentionDim: 32 });
      expect(() => accountKeys('t', source.tensors, wider)).toThrow(/txt_norm\.weight is \[16\], expected \[32\]/);
    } finally {
      await source.close();
    }
  });

  it('refuses transformer features UniPic-3 does not have', () => {
    expect(() => qwenTransformerConfigFromJson({ ...json('transformer'), zero_cond_t: true })).toThrow(/zero_cond_t/);
    expect(() => qwenTransformerConfigFromJson({ ...json('transformer'), guidance_embeds: true })).toThrow(/guidance_embeds/);
  });
});
