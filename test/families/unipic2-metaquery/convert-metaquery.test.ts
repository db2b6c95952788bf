import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../../src/core/model/graphs.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import type { BackendSession } from '../../../src/spec/backend.js';
import type { GraphName } from '../../../src/spec/manifest.js';
import { convertMetaquery, detectMetaquery, METAQUERY_CONFIG_FILE } from '../../../src/families/unipic2-metaquery/convert/convert-metaquery.js';
import type { MqGraphName, MqGraphs } from '../../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { encodeConditioning } from '../../../src/families/unipic2-metaquery/runtime/query-conditioning.js';
import { generatePrompt } from '../../../src/families/unipic2-metaquery/text/chat-templates.js';
import { qwenTokenizer } from '../../core/text/support/qwen-tokenizer.js';
import { fixtureCheckpoint } from './support/graph-harness.js';
import { MQ_FIXTURES, mqFloat, mqInt, scaledError } from './support/goldens.js';
import { openMetaqueryFolder } from '../../../src/families/unipic2-metaquery/convert/open-metaquery-folder.js';
import { runtimeConfig } from './support/mq-runtime-harness.js';
import { onnx } from '../../../src/convert/onnx/proto.js';

describe('unipic2-metaquery converter on the oracle checkpoint', () => {
  let checkpoint: string;
  let out: string;
  beforeAll(async () => {
    checkpoint = fixtureCheckpoint();
    out = join(checkpoint, 'converted');
    await convertMetaquery(checkpoint, out, { llmDtype: 'fp32' });
  });
  afterAll(() => rmSync(checkpoint, { recursive: true, force: true }));

  it('detects the Skywork folder by its conditioner config', async () => {
    expect(await detectMetaquery(checkpoint)).toBe('certain');
    expect(await detectMetaquery(join(checkpoint, 'Qwen2.5-VL-7B-Instruct'))).toBeUndefined();
  });

  it('writes the five graphs, the meta-queries and metaquery.json', () => {
    const described = JSON.parse(readFileSync(join(out, METAQUERY_CONFIG_FILE), 'utf8'));
    expect(Object.keys(described.graphs).sort()).toEqual(['conditioner', 'embed', 'llm', 'lm_head', 'vision']);
    expect(described.config.mropeSection).toEqual([1, 1, 2]);
    expect(described.processor).toEqual({ minPixels: 3136, maxPixels: 12845056 });
    expect(described.generation.top_k).toBe(1);
    const queries = decodeSafetensors(new Uint8Array(readFileSync(join(out, 'meta_queries.safetensors'))), 'meta_queries').tensors.get('meta_queries');
    expect(queries?.shape).toEqual([8, 16]);
  });

  it('converted graphs, loaded from disk, reproduce the generate path', async () => {
    const error = await conditioningError(out);
    expect(error).toBeLessThan(1e-4);
  });

  it('openMetaqueryFolder: understand as a Run (oracle tokens, streamed), conditioning for the sampler, dispose', async () => {
    const backend = new NodeOrtBackend();
    const model = await openMetaqueryFolder(out, backend);
    try {
      expect(model.capabilities).toEqual(['understand']);
      const run = model.understand({ image: new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png'))), maxTokens: 10 });
      let streamed = '';
      for await (const event of run) if (event.type === 'text-delta') streamed += event.delta;
      const result = await run.result;
      expect(result.tokens).toEqual(mqInt('understand.tokens'));
      expect(streamed).toBe(result.text);
      const pair = await model.generateConditioning('a red cube on a wooden table');
      expect(scaledError(pair.positive.promptEmbeds, mqFloat('t2i.prompt_embeds').subarray(0, 8 * 32))).toBeLessThan(1e-4);
      expect(() => model.understand({ image: new Uint8Array(0), maxTokens: 0 })).toThrow(/maxTokens/);
      const aborted = new AbortController();
      aborted.abort();
      await expect(model.understand({ image: new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png'))), signal: aborted.signal }).result).rejects.toMatchObject({
        code: 'ABORTED',
      });
    } finally {
      await model.dispose();
      await backend.dispose();
    }
    expect(model.disposed).toBe(true);
    expect(() => model.understand({ image: new Uint8Array(0) })).toThrow(/disposed/);
  });

  it('q4 language model: converts and stays close to the oracle', async () => {
    const q4 = join(checkpoint, 'converted-q4');
    const result = await convertMetaquery(checkpoint, q4);
    expect(result.graphs.llm.dtype).toBe('q4');
    expect(result.graphs.vision.dtype).toBe('fp32');
    expect(result.graphs.transformer).toBeUndefined();
    expect(result.warnings.join()).toMatch(/understand only/);
    // Wiring check, not an accuracy figure: with width 16 every weight row is one 4-bit block of
    // random values, and two decoder layers plus the conditioner amplify it (measured 0.17 on the
    // output scale). The shared builders' q4 accuracy is tested in test/convert/graphs/llm/.
    const error = await conditioningError(q4);
    expect(error).toBeGreaterThan(0);
    expect(error).toBeLessThan(0.3);
    // int8 activations on the CPU (accuracy level 4), as UniPic-1's language model: 1.66× the 7B's decode.
    for (const graph of ['llm', 'lm_head'] as const) {
      const nodes = onnx.ModelProto.decode(readFileSync(join(q4, result.graphs[graph].file))).graph?.node ?? [];
      const levels = nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => Number(n.attribute?.find((a) => a.name === 'accuracy_level')?.i ?? 0));
      expect(levels.length, graph).toBeGreaterThan(0);
      expect(new Set(levels), graph).toEqual(new Set([4]));
    }
  });

  it('accounts for every config field: used, ignored with a reason, or refused', async () => {
    const described = JSON.parse(readFileSync(join(out, METAQUERY_CONFIG_FILE), 'utf8'));
    expect(described.eosIds).toEqual([151645, 151643]);
    const ignored = described.configAccount.ignored as { file: string; field: string; why: string }[];
    expect(ignored.find((f) => f.field === '_attn_implementation')?.why).toMatch(/kernel/);
    expect(ignored.find((f) => f.field === 'video_token_id')?.why).toMatch(/video/);
    const broken = fixtureCheckpoint();
    try {
      const path = join(broken, 'Qwen2.5-VL-7B-Instruct', 'config.json');
      const config = JSON.parse(readFileSync(path, 'utf8'));
      writeFileSync(path, JSON.stringify({ ...config, vision_config: { ...config.vision_config, in_chans: 4 } }));
      await expect(convertMetaquery(broken, join(broken, 'out'))).rejects.toThrow(/in_chans/);
      writeFileSync(path, JSON.stringify({ ...config, mystery_switch: true }));
      await expect(convertMetaquery(broken, join(broken, 'out'))).rejects.toThrow(/mystery_switch/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('refuses a checkpoint with a key its config does not explain', async () => {
    const broken = fixtureCheckpoint();
    try {
      const config = JSON.parse(readFileSync(join(broken, 'conditioner', 'config.json'), 'utf8'));
      config.connector_config.num_hidden_layers = 1;
      writeFileSync(join(broken, 'conditioner', 'config.json'), JSON.stringify(config));
      await expect(convertMetaquery(broken, join(broken, 'out'))).rejects.toThrow(/unexpected/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

/** Runs the generate path's cond row on the converted folder's graphs; error against the oracle. */
async function conditioningError(folder: string): Promise<number> {
  const described = JSON.parse(readFileSync(join(folder, METAQUERY_CONFIG_FILE), 'utf8'));
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  const sessions: BackendSession[] = [];
  const checked = new CheckedGraphs(async (name) => {
    const session = await backend.createSession({ name, path: join(folder, described.graphs[name as MqGraphName].file) });
    sessions.push(session);
    return session;
  });
  const graphs: MqGraphs = { run: (name, feeds, options) => checked.run(name as unknown as GraphName, feeds, options) };
  try {
    const file = decodeSafetensors(new Uint8Array(readFileSync(join(folder, 'meta_queries.safetensors'))), 'meta_queries');
    const bytes = file.tensors.get('meta_queries')!.bytes.slice();
    const ids = qwenTokenizer().encode(generatePrompt('a red cube on a wooden table'));
    const result = await encodeConditioning(graphs, runtimeConfig, ids, new Float32Array(bytes.buffer));
    return scaledError(result.promptEmbeds, mqFloat('t2i.prompt_embeds').subarray(0, 8 * 32));
  } finally {
    for (const s of sessions) await s.dispose();
    await backend.dispose();
  }
}
