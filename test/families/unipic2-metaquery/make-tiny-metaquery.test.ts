import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../../src/core/model/graphs.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import type { BackendSession } from '../../../src/spec/backend.js';
import type { GraphName } from '../../../src/spec/manifest.js';
import { convertMetaquery, METAQUERY_CONFIG_FILE } from '../../../src/families/unipic2-metaquery/convert/convert-metaquery.js';
import { makeTinyMetaquery } from '../../../src/families/unipic2-metaquery/convert/tiny/make-tiny-metaquery.js';
import { DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, editPixels, encodeImage } from '../../../src/families/unipic2-metaquery/runtime/encode-image.js';
import type { MqGraphName, MqGraphs } from '../../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { encodeConditioning } from '../../../src/families/unipic2-metaquery/runtime/query-conditioning.js';
import { QWEN25_VL_EOS, QWEN25_VL_GENERATION, understandTokens } from '../../../src/families/unipic2-metaquery/runtime/understand-tokens.js';
import { editPrompt, expandImagePad, generatePrompt, understandPrompt } from '../../../src/families/unipic2-metaquery/text/chat-templates.js';
import { QWEN25_VL_CHAT_TEMPLATE, QWEN25_VL_SYSTEM_CLAUSE } from '../../../src/core/qwen-vl/qwen25-vl-chat-template.js';
import { qwenTokenizer } from '../../core/text/support/qwen-tokenizer.js';
import { MQ_FIXTURES, testImage } from './support/goldens.js';
import { convertMetaqueryModel } from '../../../src/families/unipic2-metaquery/converter.js';
import type { MetaqueryTasks } from '../../../src/families/unipic2-metaquery/runtime.js';
import type { UniPicModel } from '../../../src/core/model/unipic-model.js';
import { UniPic } from '../../../src/index.node.js';

const testImagePng = () => new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png')));

describe('make-tiny --family unipic2-metaquery → convert → every VLM-side path', () => {
  let dir: string;
  let graphs: MqGraphs;
  let described: { config: Parameters<typeof encodeConditioning>[1]; graphs: Record<MqGraphName, { file: string }> };
  let metaQueries: Float32Array;
  const sessions: BackendSession[] = [];
  const backend = new NodeOrtBackend();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mq-tiny-'));
    await makeTinyMetaquery(join(dir, 'ckpt'), { seed: 1 });
    await convertMetaquery(join(dir, 'ckpt'), join(dir, 'model'), { llmDtype: 'fp32' });
    described = JSON.parse(readFileSync(join(dir, 'model', METAQUERY_CONFIG_FILE), 'utf8'));
    await backend.init({ device: 'cpu' });
    const checked = new CheckedGraphs(async (name) => {
      const session = await backend.createSession({ name, path: join(dir, 'model', described.graphs[name as MqGraphName].file) });
      sessions.push(session);
      return session;
    });
    graphs = { run: (name, feeds, options) => checked.run(name as unknown as GraphName, feeds, options) };
    const file = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model', 'meta_queries.safetensors'))), 'meta_queries');
    metaQueries = new Float32Array(file.tensors.get('meta_queries')!.bytes.slice().buffer);
  });
  afterAll(async () => {
    for (const s of sessions) await s.dispose();
    await backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the published layouts (sharded VLM with an untied lm_head, conditioner, tokenizer + VL template)', () => {
    const index = JSON.parse(readFileSync(join(dir, 'ckpt', 'Qwen2.5-VL-7B-Instruct', 'model.safetensors.index.json'), 'utf8'));
    expect(new Set(Object.values(index.weight_map)).size).toBe(2);
    expect(index.weight_map['lm_head.weight']).toBeDefined();
    expect(QWEN25_VL_CHAT_TEMPLATE).toContain(QWEN25_VL_SYSTEM_CLAUSE);
    expect(JSON.parse(readFileSync(join(dir, 'ckpt', 'Qwen2.5-VL-7B-Instruct', 'tokenizer_config.json'), 'utf8')).chat_template).toBe(QWEN25_VL_CHAT_TEMPLATE);
  });

  it('generate and edit conditioning, understanding tokens: right shapes, deterministic', async () => {
    const config = described.config;
    const tokenizer = qwenTokenizer();
    const t2i = await encodeConditioning(graphs, config, tokenizer.encode(generatePrompt('a cat')), metaQueries);
    expect(t2i.promptEmbeds.length).toBe(8 * 32);
    expect(t2i.pooledPromptEmbeds.length).toBe(24);

    const image = testImage();
    const forEdit = await encodeImage(graphs, config, image, editPixels(image.height, image.width));
    const editIds = tokenizer.encode(expandImagePad(editPrompt('make it blue'), forEdit.tokens));
    const edit = await encodeConditioning(graphs, config, editIds, metaQueries, { imageEmbeds: forEdit.embeds });
    const again = await encodeConditioning(graphs, config, editIds, metaQueries, { imageEmbeds: forEdit.embeds });
    expect(Array.from(again.promptEmbeds)).toEqual(Array.from(edit.promptEmbeds));

    const forUnderstanding = await encodeImage(graphs, config, image, { min: DEFAULT_MIN_PIXELS, max: DEFAULT_MAX_PIXELS });
    const ids = tokenizer.encode(expandImagePad(understandPrompt('What is this?', true), forUnderstanding.tokens));
    const run = () =>
      understandTokens(graphs, config, ids, forUnderstanding, { sampling: QWEN25_VL_GENERATION, maxTokens: 5, eosIds: QWEN25_VL_EOS, random: () => 0.5 });
    const first = await run();
    expect(first.tokens.length).toBeGreaterThan(0);
    expect((await run()).tokens).toEqual(first.tokens);
  });
});

describe('make-tiny --family unipic2-metaquery → convert → UniPic.load → generate and edit', () => {
  let dir: string;
  let model: UniPicModel<MetaqueryTasks>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mq-tiny-diffusion-'));
    await makeTinyMetaquery(join(dir, 'ckpt'), { seed: 2 });
    await convertMetaqueryModel(join(dir, 'ckpt'), join(dir, 'model'), { dtypes: ['fp32'] });
    model = await UniPic.load(join(dir, 'model'), { device: 'cpu', threads: 1, family: 'unipic2-metaquery' });
  });
  afterAll(async () => {
    await model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes transformer/, vae/, scheduler/ in the diffusers layout with the conditioner’s widths', () => {
    const transformer = JSON.parse(readFileSync(join(dir, 'ckpt', 'transformer', 'config.json'), 'utf8'));
    expect([transformer.joint_attention_dim, transformer.pooled_projection_dim]).toEqual([32, 24]);
    expect(JSON.parse(readFileSync(join(dir, 'ckpt', 'scheduler', 'scheduler_config.json'), 'utf8')).shift).toBe(3);
    expect([...model.capabilities].sort()).toEqual(['edit', 'generate', 'understand']);
  });

  it('generate and edit run and are deterministic for a seed', async () => {
    const generate = () => model.generate({ prompt: 'a cat', width: 32, height: 48, steps: 2, seed: 5 }).result;
    const [a, b] = [await generate(), await generate()];
    expect([a.width, a.height, a.images[0].data.length]).toEqual([32, 48, 32 * 48 * 4]);
    expect(Array.from(a.latent.data)).toEqual(Array.from(b.latent.data));
    expect(a.latent.data.every(Number.isFinite)).toBe(true);
    const edited = await model.edit({ image: testImagePng(), prompt: 'make it blue', longerEdge: 64, steps: 2, seed: 5 }).result;
    expect([edited.width, edited.height]).toEqual([64, 64]);
    expect(edited.latent.data.every(Number.isFinite)).toBe(true);
  });
});

describe('make-tiny --family unipic2-metaquery → convert with dtypes [q4, q4] (the small-memory conversion)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mq-tiny-q4-'));
    await makeTinyMetaquery(join(dir, 'ckpt'), { seed: 2 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('quantizes the vision tower, conditioner and transformer too (the VAE stays fp32); generate stays near the fp32 model', async () => {
    const converted = await convertMetaqueryModel(join(dir, 'ckpt'), join(dir, 'q4'), { dtypes: ['q4', 'q4'] });
    expect(Object.fromEntries(Object.entries(converted.manifest.graphs).map(([graph, variants]) => [graph, Object.keys(variants ?? {})]))).toEqual({
      vision: ['q4'],
      embed: ['q4'],
      llm: ['q4'],
      lm_head: ['q4'],
      conditioner: ['q4'],
      transformer: ['q4'],
      vae_encoder: ['fp32'],
      vae_encoder_strips: ['fp32'],
      vae_decoder: ['fp32'],
      vae_decoder_strips: ['fp32'],
    });
    await convertMetaqueryModel(join(dir, 'ckpt'), join(dir, 'fp32'), { dtypes: ['fp32', 'fp32'] });
    const latent = async (folder: string) => {
      const model = await UniPic.load(join(dir, folder), { device: 'cpu', threads: 1, family: 'unipic2-metaquery' });
      try {
        return (await model.generate({ prompt: 'a cat', width: 32, height: 48, steps: 2, seed: 5 }).result).latent.data;
      } finally {
        await model.dispose();
      }
    };
    const [q4, fp32] = [await latent('q4'), await latent('fp32')];
    let worst = 0;
    let scale = 1;
    for (let i = 0; i < fp32.length; i++) {
      worst = Math.max(worst, Math.abs(q4[i] - fp32[i]));
      scale = Math.max(scale, Math.abs(fp32[i]));
    }
    console.info(`[metaquery q4,q4] generate latent: max |q4 − fp32| / max(1, max|fp32|) = ${(worst / scale).toExponential(2)}`);
    // Measured 0.075 (4-bit blocks of the tiny random weights, every product quantized); the bound
    // catches a wrong graph (a swapped or unquantized-as-garbage weight gives O(1)), not q4 noise.
    expect(worst / scale).toBeLessThan(0.25);
  }, 120_000);

  it('refuses a third dtype (one variant per graph)', async () => {
    await expect(convertMetaqueryModel(join(dir, 'ckpt'), join(dir, 'x'), { dtypes: ['q4', 'q4', 'fp32'] })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
