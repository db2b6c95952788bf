import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { readGenerationConfig } from '../../src/families/unipic1/convert/generation-config.js';
import { readQwenConfig } from '../../src/families/unipic1/convert/qwen-config.js';
import { openCheckpoint } from '../../src/families/unipic1/convert/open-checkpoint.js';
import { makeTinyCheckpoint, tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { UNIPIC_1_5B, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { inferCheckpointConfig } from '../../src/families/unipic1/convert/infer-checkpoint-config.js';
import { requiredTensors } from '../../src/families/unipic1/convert/key-map.js';
import { openTorchCheckpoint } from '../../src/convert/readers/torch-checkpoint-reader.js';
import { writeTorchCheckpoint, type TorchTensorInput } from '../../src/convert/writers/torch-checkpoint-writer.js';
import { resolveTextSampling, DEFAULT_TEXT_SAMPLING } from '../../src/core/text/sampling-options.js';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { StructureNeededError } from '../../src/errors/structure-needed-error.js';
import { REFERENCE_ROOT } from '../support/reference.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { temporaryFolder } from './readers/support/checkpoint-test-helpers.js';

const VARIANT_CONFIG = fileURLToPath(new URL('../../tools/reference/unipic_reference/data/variant-config.json', import.meta.url));
const QWEN = 'Qwen2.5-1.5B-Instruct';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
const withoutMeta = (structure: Record<string, unknown>) => {
  const { _comment, seed, resolutions, ...rest } = structure;
  return rest;
};

/** A copy of a checkpoint folder to break (the committed fixtures stay untouched). */
async function copyOf(source: string): Promise<string> {
  const target = join(folder.path, 'checkpoint');
  await cp(source, target, { recursive: true });
  return target;
}

async function rewriteUnipicState(checkpoint: string, edit: (entries: [string, TorchTensorInput][]) => [string, TorchTensorInput][]): Promise<void> {
  const path = join(checkpoint, 'pytorch_model.bin');
  const source = await openTorchCheckpoint(path);
  const entries: [string, TorchTensorInput][] = [];
  for (const [name, tensor] of source.tensors) entries.push([name, { dtype: tensor.dtype, shape: tensor.shape, data: await source.readBytes(name) }]);
  await source.close();
  await writeTorchCheckpoint(path, edit(entries));
}

describe('every key and every config field of each checkpoint is used, ignored with a reason, or refused', () => {
  const checkpoints: [string, () => Promise<string>][] = [
    ['the oracle tiny checkpoint', async () => join(REFERENCE_ROOT, 'checkpoint')],
    ['the oracle variant (narrow decoder, untied head, GQA 3:1, own generation config)', async () => join(REFERENCE_ROOT, 'checkpoint-variant')],
    ['make-tiny', tinyCheckpointDir],
  ];
  it.each(checkpoints)(
    '%s',
    async (_, locate) => {
      const dir = await locate();
      const inspection = await inspectCheckpoint(dir);

      const view = await openCheckpoint(dir);
      const keys = [...view.tensors.keys()];
      await view.close();
      const required = new Set(inspection.keys.required);
      const ignored = new Map(inspection.keys.ignored.map((entry) => [entry.key, entry.why]));
      expect(inspection.keys.unknown).toEqual([]);
      for (const key of keys) {
        expect(required.has(key) || (ignored.get(key) ?? '').length > 10, key).toBe(true);
      }

      const accounted = (file: string, field: string) =>
        inspection.config.used.some((u) => u.file === file && u.field === field) ||
        inspection.config.ignored.some((i) => i.file === file && i.field === field && i.why.length > 5);
      const files = [`${QWEN}/config.json`, `${QWEN}/generation_config.json`, 'unipic-config.json'];
      let walked = 0;
      for (const file of files) {
        if (!existsSync(join(dir, file))) continue;
        const json = await readJson(join(dir, file));
        for (const [field, value] of Object.entries(json)) {
          const fields =
            file === 'unipic-config.json' && value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).map((f) => `${field}.${f}`) : [field];
          for (const name of fields) {
            expect(accounted(file, name), `${file}: ${name}`).toBe(true);
            walked++;
          }
        }
      }
      expect(walked).toBeGreaterThan(20);

      // Every structure number says where it came from.
      for (const [section, values] of Object.entries(inspection.structure)) {
        if (typeof values !== 'object' || Array.isArray(values)) continue;
        for (const field of Object.keys(values)) {
          if (field === 'bos_token_id' || field === 'eos_token_id') continue; // recorded, unused (see the config account)
          expect(
            inspection.fields.some((f) => f.field === `${section}.${field}`),
            `${section}.${field}`,
          ).toBe(true);
        }
      }
    },
    60_000,
  );
});

describe('structure inference', () => {
  it("UniPic-1.5B's shapes and Qwen config give UniPic-1.5B, with its head counts and GroupNorm groups", () => {
    const shapes = new Map<string, readonly number[]>(requiredTensors(UNIPIC_1_5B));
    shapes.set('mar.class_emb.weight', [1000, 1280]);
    const { llm } = UNIPIC_1_5B;
    const qwen = { ...llm };
    expect(inferCheckpointConfig({ shapes, qwen, sideConfigPath: 'x/unipic-config.json' }).structure).toEqual(UNIPIC_1_5B);
    // Without any Qwen config too (the LLM has Qwen2.5-1.5B's shapes).
    const { structure, fields } = inferCheckpointConfig({ shapes, sideConfigPath: 'x/unipic-config.json' });
    expect({ ...structure, llm: { ...structure.llm, bos_token_id: llm.bos_token_id, eos_token_id: llm.eos_token_id } }).toEqual(UNIPIC_1_5B);
    expect(fields.find((f) => f.field === 'mar.encoder_num_heads')).toMatchObject({ source: 'unipic-1.5b', why: expect.stringMatching(/UniPic-1\.5B's shapes/) });
    // One block more and the encoder's head count is no longer assumed.
    shapes.set('mar.encoder_blocks.20.norm1.weight', [1280]);
    expect(() => inferCheckpointConfig({ shapes, qwen, sideConfigPath: 'x/unipic-config.json' })).toThrow(StructureNeededError);
  });

  it('recovers the oracle variant exactly from its shapes, Qwen config and three side-config numbers', async () => {
    const inspection = await inspectCheckpoint(join(REFERENCE_ROOT, 'checkpoint-variant'));
    expect(withoutMeta(inspection.structure as unknown as Record<string, unknown>)).toEqual(withoutMeta(await readJson(VARIANT_CONFIG)));
    expect(
      inspection.fields
        .filter((f) => f.source === 'side-config')
        .map((f) => f.field)
        .sort(),
    ).toEqual(['mar.decoder_num_heads', 'mar.encoder_num_heads', 'vae.norm_num_groups']);
    expect(inspection.generation).toEqual({ repetitionPenalty: 1, temperature: 0.9, topK: 5, topP: 0.95 });
  });

  it('infers widths, depths, buffer size, grid, MLP ratio and the VAE channel multipliers of another shape', async () => {
    const base = tinyCheckpointConfig();
    const custom: CheckpointConfig = {
      ...base,
      mar: {
        ...base.mar,
        img_size: 16,
        vae_stride: 4,
        encoder_depth: 3,
        decoder_embed_dim: 24,
        decoder_depth: 1,
        decoder_num_heads: 3,
        buffer_size: 8,
        mlp_ratio: 3,
      },
      diffloss: { ...base.diffloss, width: 20, depth: 1, z_channels: 24 },
      vae: { ...base.vae, ch: 4, ch_mult: [1, 2, 4], num_res_blocks: 1, norm_num_groups: 2, attn_resolution_level: 2 },
      resolutions: [16, 32],
    };
    const dir = join(folder.path, 'custom');
    await makeTinyCheckpoint(dir, { structure: custom });
    await writeFile(join(dir, 'unipic-config.json'), JSON.stringify({ mar: { encoder_num_heads: 4, decoder_num_heads: 3 }, vae: { norm_num_groups: 2 } }));
    const inspection = await inspectCheckpoint(dir);
    expect(withoutMeta(inspection.structure as unknown as Record<string, unknown>)).toEqual(withoutMeta(custom as unknown as Record<string, unknown>));
    expect(inspection.structure.resolutions).toEqual([16, 32]);
    const source = (field: string) => inspection.fields.find((f) => f.field === field)?.source;
    expect(source('vae.ch_mult')).toBe('shapes');
    expect(source('mar.buffer_size')).toBe('shapes');
    expect(source('mar.img_size')).toBe('shapes');
    expect(source('mar.mlp_ratio')).toBe('shapes');
  });

  it('asks for exactly what the shapes cannot state, naming the fields and the file to write', async () => {
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint'));
    await rm(join(dir, 'unipic-config.json'));
    const error = await inspectCheckpoint(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StructureNeededError);
    const needed = error as StructureNeededError;
    expect(needed.code).toBe('STRUCTURE_NEEDED');
    expect([...needed.details.fields].sort()).toEqual(['mar.decoder_num_heads', 'mar.encoder_num_heads', 'vae.norm_num_groups']);
    expect(needed.details.file).toBe(join(dir, 'unipic-config.json'));
    expect(needed.details.example).toEqual({ vae: { norm_num_groups: null }, mar: { encoder_num_heads: null, decoder_num_heads: null } });
    expect(needed.message).toContain(join(dir, 'unipic-config.json'));
    expect(needed.message).toContain('"encoder_num_heads": null');
    // Writing what it asked for is enough.
    await writeFile(join(dir, 'unipic-config.json'), JSON.stringify({ mar: { encoder_num_heads: 4, decoder_num_heads: 4 }, vae: { norm_num_groups: 4 } }));
    expect(withoutMeta((await inspectCheckpoint(dir)).structure as unknown as Record<string, unknown>)).toEqual(
      withoutMeta(tinyCheckpointConfig() as unknown as Record<string, unknown>),
    );
  });

  it('refuses a side config that contradicts the shapes, naming both values', async () => {
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint-variant'));
    await writeFile(
      join(dir, 'unipic-config.json'),
      JSON.stringify({ mar: { encoder_num_heads: 4, decoder_num_heads: 2, decoder_embed_dim: 32 }, vae: { norm_num_groups: 4 } }),
    );
    const error = await inspectCheckpoint(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidModelError);
    expect((error as Error).message).toMatch(/mar\.decoder_embed_dim: the tensor shapes say 16 but unipic-config\.json says 32/);
  });

  it('refuses an unknown side-config field and head counts that do not divide the width', async () => {
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint-variant'));
    await writeFile(
      join(dir, 'unipic-config.json'),
      JSON.stringify({ mar: { encoder_num_heads: 4, decoder_num_heads: 2, decoder_heads: 2 }, vae: { norm_num_groups: 4 } }),
    );
    await expect(inspectCheckpoint(dir)).rejects.toThrow(/mar: Unrecognized key/);
    await writeFile(join(dir, 'unipic-config.json'), JSON.stringify({ mar: { encoder_num_heads: 5, decoder_num_heads: 2 }, vae: { norm_num_groups: 4 } }));
    await expect(inspectCheckpoint(dir)).rejects.toThrow(/mar\.encoder_num_heads = 5 for 32/);
  });
});

describe('the lm_head tie', () => {
  it('tie_word_embeddings false: the head is required, and its absence refused', async () => {
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint-variant'));
    expect((await inspectCheckpoint(dir)).keys.required).toContain('llm.lm_head.weight');
    await rewriteUnipicState(dir, (entries) => entries.filter(([name]) => name !== 'llm.lm_head.weight'));
    const error = await inspectCheckpoint(dir).catch((caught: unknown) => caught);
    expect((error as InvalidModelError).details).toEqual({ missing: ['llm.lm_head.weight'] });
  });

  it('tie_word_embeddings true: an equal saved head is ignored with the reason, a different one refused', async () => {
    const tiny = await inspectCheckpoint(join(REFERENCE_ROOT, 'checkpoint'));
    expect(tiny.keys.ignored).toContainEqual({ key: 'llm.lm_head.weight', why: expect.stringMatching(/tie_word_embeddings is true/) });
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint'));
    await rewriteUnipicState(dir, (entries) =>
      entries.map(([name, tensor]): [string, TorchTensorInput] => {
        if (name !== 'llm.lm_head.weight') return [name, tensor];
        const data = new Uint8Array(tensor.data!);
        data[0] ^= 0x40;
        return [name, { dtype: tensor.dtype, shape: tensor.shape, data }];
      }),
    );
    await expect(inspectCheckpoint(dir)).rejects.toThrow(/llm\.lm_head\.weight differs from llm\.model\.embed_tokens\.weight, but .*tie_word_embeddings: true/);
    // Separate but equal storages are fine.
    await rewriteUnipicState(dir, (entries) => {
      const embed = entries.find(([name]) => name === 'llm.model.embed_tokens.weight')![1];
      return entries.map(([name, tensor]): [string, TorchTensorInput] =>
        name === 'llm.lm_head.weight' ? [name, { dtype: embed.dtype, shape: embed.shape, data: new Uint8Array(embed.data!) }] : [name, tensor],
      );
    });
    expect((await inspectCheckpoint(dir)).keys.ignored.map((i) => i.key)).toContain('llm.lm_head.weight');
  });
});

describe('config files', () => {
  const released = {
    bos_token_id: 151643,
    do_sample: true,
    eos_token_id: [151645, 151643],
    pad_token_id: 151643,
    repetition_penalty: 1.1,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    transformers_version: '4.37.0',
  };

  it('generation_config.json: the sampling defaults are used, the fields the official script overrides are ignored with the reason', () => {
    const { defaults, account } = readGenerationConfig(released, 'g.json');
    expect(defaults).toEqual({ repetitionPenalty: 1.1, temperature: 0.7, topK: 20, topP: 0.8 });
    expect(account.used.map((u) => u.field).sort()).toEqual(['repetition_penalty', 'temperature', 'top_k', 'top_p']);
    const why = Object.fromEntries(account.ignored.map((i) => [i.field, i.why]));
    expect(why.do_sample).toMatch(/passes do_sample=False/);
    expect(why.eos_token_id).toMatch(/<\|im_end\|>/);
    expect(readGenerationConfig({}, 'g.json').defaults).toEqual({ repetitionPenalty: 1, temperature: 1, topK: 50, topP: 1 });
  });

  it('generation_config.json: what unipic does not implement, or does not know, is refused', () => {
    expect(() => readGenerationConfig({ ...released, num_beams: 4 }, 'g.json')).toThrow(/"num_beams": 4 asks for beam search/);
    expect(() => readGenerationConfig({ ...released, no_repeat_ngram_size: 3 }, 'g.json')).toThrow(/no_repeat_ngram_size/);
    expect(() => readGenerationConfig({ ...released, brand_new_knob: 1 }, 'g.json')).toThrow(/"brand_new_knob" is a field unipic does not know/);
    expect(() => readGenerationConfig({ ...released, top_p: 0 }, 'g.json')).toThrow(/top_p/);
    expect(readGenerationConfig({ ...released, num_beams: 1, min_new_tokens: null }, 'g.json').account.ignored.map((i) => i.field)).toContain('num_beams');
  });

  it("a folder without generation_config.json gets transformers' defaults, as from_pretrained would, with a warning", async () => {
    const dir = await copyOf(join(REFERENCE_ROOT, 'checkpoint'));
    await rm(join(dir, QWEN, 'generation_config.json'));
    const inspection = await inspectCheckpoint(dir);
    expect(inspection.generation).toEqual({ repetitionPenalty: 1, temperature: 1, topK: 50, topP: 1 });
    expect(inspection.warnings).toContainEqual(expect.stringMatching(/no Qwen2\.5-1\.5B-Instruct\/generation_config\.json: transformers' defaults apply/));
  });

  it('Qwen config.json: the transformers 5 schema reads; sliding windows, RoPE scaling and other activations are refused', () => {
    const v5 = JSON.parse(readFileSync(join(REFERENCE_ROOT, 'checkpoint', QWEN, 'config.json'), 'utf8')) as Record<string, unknown>;
    delete v5.rope_theta;
    delete v5.torch_dtype;
    const modern = {
      ...v5,
      dtype: 'float16',
      rope_parameters: { rope_theta: 1e6, rope_type: 'default' },
      layer_types: ['full_attention', 'full_attention'],
      pad_token_id: null,
    };
    expect(readQwenConfig(modern, 'c.json').llm.rope_theta).toBe(1e6);
    expect(() => readQwenConfig({ ...v5, hidden_act: 'gelu' }, 'c.json')).toThrow(/"hidden_act": "gelu" is not the SiLU/);
    expect(() => readQwenConfig({ ...v5, use_sliding_window: true }, 'c.json')).toThrow(/sliding-window/);
    expect(() => readQwenConfig({ ...v5, rope_scaling: { type: 'yarn', factor: 4 } }, 'c.json')).toThrow(/RoPE scaling/);
    expect(() => readQwenConfig({ ...modern, rope_parameters: { rope_theta: 1e6, rope_type: 'yarn' } }, 'c.json')).toThrow(/RoPE scaling/);
    expect(() => readQwenConfig({ ...v5, layer_types: ['sliding_attention'] }, 'c.json')).toThrow(/layer_types/);
    expect(() => readQwenConfig({ ...v5, attention_bias: false }, 'c.json')).toThrow(/"attention_bias" is a field unipic does not know/);
    // An absent tie flag is transformers' Qwen2Config default: untied.
    const { tie_word_embeddings: _, ...untied } = v5;
    expect(readQwenConfig(untied, 'c.json').llm.tie_word_embeddings).toBe(false);
  });
});

describe("text sampling precedence: call option > the model's generation defaults > SDK defaults", () => {
  const model = { repetitionPenalty: 1, temperature: 0.9, topK: 5, topP: 0.95 };
  it('takes each field from the first that states it; doSample never comes from the model', () => {
    expect(resolveTextSampling({}, model)).toEqual({ doSample: false, ...model });
    expect(resolveTextSampling({ temperature: 0.5, doSample: true }, model)).toEqual({
      doSample: true,
      repetitionPenalty: 1,
      temperature: 0.5,
      topK: 5,
      topP: 0.95,
    });
    // A manifest written before the generation section existed keeps today's defaults.
    expect(resolveTextSampling({}, undefined)).toEqual(DEFAULT_TEXT_SAMPLING);
    expect(resolveTextSampling({ repetitionPenalty: 1.3 }, undefined).repetitionPenalty).toBe(1.3);
  });
});
