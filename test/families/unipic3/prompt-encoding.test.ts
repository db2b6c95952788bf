import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { buildEmbedGraph } from '../../../src/convert/graphs/llm/embed-graph.js';
import { buildLlmGraph } from '../../../src/convert/graphs/llm/llm-graph.js';
import { asSharedLlmWeights, openFolderWeights } from '../../../src/convert/graphs/qwen-vl/folder-weights.js';
import { buildVisionGraph, withFlatPatchEmbed } from '../../../src/convert/graphs/qwen-vl/vision-graph.js';
import { parseVlmConfig } from '../../../src/convert/graphs/qwen-vl/vlm-config.js';
import type { GraphContext, WeightSource } from '../../../src/convert/graphs/weights.js';
import { GraphBuilder } from '../../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../../src/convert/onnx/weight-sink.js';
import { buildTokenizerJson } from '../../../src/convert/tokenizer/build-tokenizer-json.js';
import { resizeLikePillow } from '../../../src/core/image/pillow-resize.js';
import type { RgbImage } from '../../../src/core/image/rgb-image.js';
import { CheckedGraphs } from '../../../src/core/model/graphs.js';
import { mropePositions } from '../../../src/core/qwen-vl/mrope-positions.js';
import { TextTokenizer } from '../../../src/core/text/tokenizer.js';
import { budgetSizes, visionSize } from '../../../src/families/unipic3/latents/input-sizing.js';
import { checkDroppedPrefix, DROPPED_PREFIX_TOKENS, UNCONDITIONAL_PROMPT, unipic3Prompt } from '../../../src/families/unipic3/text/edit-prompt.js';
import { encodeUnipic3Prompt, encodeVisionImages, type TextEncoderConfig, type TextEncoderGraphs } from '../../../src/families/unipic3/text/encode-prompt.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import type { BackendSession } from '../../../src/spec/backend.js';
import type { GraphName } from '../../../src/spec/manifest.js';

const ROOT = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const PROMPT = join(ROOT, 'unipic3', 'prompt');
const VLM = join(ROOT, 'metaquery', 'checkpoint', 'Qwen2.5-VL-7B-Instruct');
const ASSETS = fileURLToPath(new URL('../../../assets/qwen2.5-tokenizer/', import.meta.url));

const notes = JSON.parse(readFileSync(join(PROMPT, 'golden.json'), 'utf8')) as Record<string, unknown> & {
  instruction: string;
  'cond.text': string;
  'uncond.text': string;
};
const tensors = decodeSafetensors(new Uint8Array(readFileSync(join(PROMPT, 'golden.safetensors'))), 'golden.safetensors').tensors;
const bytes = (name: string) => {
  const t = tensors.get(name);
  if (!t) throw new Error(`no golden ${name}`);
  return t;
};
const ints = (name: string) => Array.from(new BigInt64Array(bytes(name).bytes.slice().buffer), Number);
const floats = (name: string) => new Float32Array(bytes(name).bytes.slice().buffer);
const inputImage = (k: number): RgbImage => {
  const t = bytes(`input_${k}`);
  return { height: t.shape[0], width: t.shape[1], data: t.bytes.slice() };
};
const sha = (image: RgbImage) => createHash('sha256').update(image.data).digest('hex');

const vlm = parseVlmConfig(JSON.parse(readFileSync(join(VLM, 'config.json'), 'utf8')));
const config: TextEncoderConfig = {
  llm: vlm.llm,
  mropeSection: vlm.mropeSection,
  vision: vlm.vision,
  imageTokenId: vlm.imageTokenId,
  visionStartTokenId: vlm.visionStartTokenId,
};
const tokenizerConfig = readFileSync(join(ASSETS, 'tokenizer_config.json'), 'utf8');
const tokenizer = TextTokenizer.fromJson(
  buildTokenizerJson(readFileSync(join(ASSETS, 'vocab.json'), 'utf8'), readFileSync(join(ASSETS, 'merges.txt'), 'utf8'), tokenizerConfig),
  JSON.parse(tokenizerConfig),
);

/** The official two-step budget resize and the VL copy, as the runtime does them. */
function preprocess(): { sized: RgbImage[]; vl: RgbImage[] } {
  const inputs = [inputImage(0), inputImage(1)];
  const sizes = budgetSizes(inputs);
  const sized = inputs.map((image, k) => {
    const ratio = 1024 / Math.sqrt(inputs.reduce((sum, s) => sum + s.width * s.height, 0));
    const first = resizeLikePillow(image, Math.round(image.width * ratio), Math.round(image.height * ratio));
    return resizeLikePillow(first, sizes[k].width, sizes[k].height);
  });
  const vl = sized.map((image) => {
    const size = visionSize(image);
    return resizeLikePillow(image, size.width, size.height);
  });
  return { sized, vl };
}

describe('UniPic-3 prompt side against transformers (two images, tiny Qwen2.5-VL)', () => {
  const { sized, vl } = preprocess();

  it('budget resize and VL copies are byte-equal to Pillow', () => {
    for (let k = 0; k < 2; k++) {
      const s = notes[`sized_${k}`] as { width: number; height: number; sha256: string };
      const v = notes[`vl_${k}`] as { width: number; height: number; sha256: string };
      expect([sized[k].width, sized[k].height, sha(sized[k])]).toEqual([s.width, s.height, s.sha256]);
      expect([vl[k].width, vl[k].height, sha(vl[k])]).toEqual([v.width, v.height, v.sha256]);
    }
  });

  it('template with the system message renders and tokenizes as apply_chat_template + the processor', () => {
    const grid = ints('image_grid_thw');
    const tokens = [(grid[1] * grid[2]) / 4, (grid[4] * grid[5]) / 4];
    for (const [tag, text] of [
      ['cond', notes.instruction],
      ['uncond', UNCONDITIONAL_PROMPT],
    ] as const) {
      const collapsed = unipic3Prompt(text, tokens).replace(/(<\|image_pad\|>)+/g, '<|image_pad|>');
      expect(collapsed).toBe(notes[`${tag}.text`]);
      expect(tokenizer.encode(unipic3Prompt(text, tokens))).toEqual(ints(`${tag}.input_ids`));
    }
  });

  it('the fixed 64-token drop is checked: a tokenizer that splits the system block differently is refused', () => {
    const ids = ints('cond.input_ids');
    expect(() => checkDroppedPrefix(ids, vlm.visionStartTokenId)).not.toThrow();
    expect(() => checkDroppedPrefix([0, ...ids], vlm.visionStartTokenId)).toThrow(expect.objectContaining({ code: 'INVALID_MODEL' }));
  });

  it('M-RoPE t/h/w positions for the two-image prompt (input_ids passed)', () => {
    const grid = ints('image_grid_thw');
    const grids = [
      { gridH: grid[1], gridW: grid[2] },
      { gridH: grid[4], gridW: grid[5] },
    ];
    for (const tag of ['cond', 'uncond']) {
      const ids = ints(`${tag}.input_ids`);
      const { positions, delta } = mropePositions(ids, vlm.imageTokenId, grids);
      const expected = ints(`${tag}.position_ids`);
      for (let row = 0; row < 3; row++) expect(Array.from(positions[row])).toEqual(expected.slice(row * ids.length, (row + 1) * ids.length));
      expect(delta).toBe(ints(`${tag}.rope_deltas`)[0]);
    }
    expect(() => mropePositions(ints('cond.input_ids'), vlm.imageTokenId, [...grids, grids[0]])).toThrow(/2 image blocks, 3 grids/);
  });

  describe('hidden states after dropping the system block (vision + embed + llm graphs, fp32)', () => {
    let graphs: TextEncoderGraphs;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      const folder = await openFolderWeights(VLM);
      const llmWeights = asSharedLlmWeights(folder.weights);
      const build = (weights: WeightSource, body: (ctx: GraphContext) => void) => {
        const sink = new MemoryWeightSink('graph.data');
        const builder = new GraphBuilder('test', sink);
        body({ builder, weights, dtype: 'fp32' });
        return { bytes: builder.toBytes(), data: sink.bytes() };
      };
      const built: Record<string, { bytes: Uint8Array; data: Uint8Array }> = {
        vision: build(withFlatPatchEmbed(folder.weights), (ctx) => buildVisionGraph(ctx, vlm.vision)),
        embed: build(llmWeights, (ctx) => buildEmbedGraph(ctx, vlm)),
        llm: build(llmWeights, (ctx) => buildLlmGraph(ctx, vlm, { rotary: 'angles' })),
      };
      await folder.close();
      const backend = new NodeOrtBackend();
      await backend.init({ device: 'cpu' });
      const sessions = new Map<string, BackendSession>();
      const checked = new CheckedGraphs(async (name) => {
        let session = sessions.get(name);
        if (!session) {
          const graph = built[name];
          session = await backend.createSession({
            name,
            bytes: graph.bytes,
            ...(graph.data.length ? { externalData: [{ path: 'graph.data', data: graph.data }] } : {}),
          });
          sessions.set(name, session);
        }
        return session;
      });
      graphs = { run: (name, feeds, options) => checked.run(name as GraphName, feeds, options) };
      dispose = async () => {
        for (const s of sessions.values()) await s.dispose();
        await backend.dispose();
      };
    }, 120_000);
    afterAll(async () => dispose?.());

    it('cond and " " prompts: prompt_embeds [L, 16] within 2e-4 of the oracle', async () => {
      const images = await encodeVisionImages(graphs, config, vl);
      for (const [tag, text] of [
        ['cond', notes.instruction],
        ['uncond', UNCONDITIONAL_PROMPT],
      ] as const) {
        const encoded = await encodeUnipic3Prompt(graphs, config, (t) => tokenizer.encode(t), text, images);
        const expected = floats(`${tag}.prompt_embeds`);
        expect(encoded.length).toBe(ints(`${tag}.input_ids`).length - DROPPED_PREFIX_TOKENS);
        expect(encoded.embeds.length).toBe(expected.length);
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(encoded.embeds[i] - expected[i]));
        expect(worst).toBeLessThan(2e-4);
      }
    }, 120_000);
  });
});
