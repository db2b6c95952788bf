import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editPrompt, expandImagePad, generatePrompt, understandPrompt } from '../../../src/families/unipic2-metaquery/text/chat-templates.js';
import { DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, editPixels, encodeImage } from '../../../src/families/unipic2-metaquery/runtime/encode-image.js';
import type { MqGraphs } from '../../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { encodeConditioning } from '../../../src/families/unipic2-metaquery/runtime/query-conditioning.js';
import { EDIT_NEGATIVE_PROMPT, editConditioning, generateConditioning } from '../../../src/families/unipic2-metaquery/runtime/conditioning-pairs.js';
import { QWEN25_VL_EOS, QWEN25_VL_GENERATION, understandTokens } from '../../../src/families/unipic2-metaquery/runtime/understand-tokens.js';
import { qwenTokenizer } from '../../core/text/support/qwen-tokenizer.js';
import { mqFloat, mqInt, mqNotes, scaledError, testImage } from './support/goldens.js';
import { fixtureGraphs, runtimeConfig } from './support/mq-runtime-harness.js';

describe('Metaquery runtime paths against the oracle (fp32 graphs on onnxruntime-node)', () => {
  let graphs: MqGraphs;
  let metaQueries: Float32Array;
  let dispose: () => Promise<void>;
  const tokenizer = qwenTokenizer();
  const Q = runtimeConfig.numQueries;
  const H = runtimeConfig.llm.hiddenSize;

  beforeAll(async () => {
    ({ graphs, metaQueries, dispose } = await fixtureGraphs());
  });
  afterAll(async () => dispose());

  it('generate: query-slot hidden states and conditioner outputs, cond and uncond rows (1-D positions)', async () => {
    const rows = ['a red cube on a wooden table', ''];
    const hidden = mqFloat('t2i.query_hidden');
    const prompt = mqFloat('t2i.prompt_embeds');
    const pooled = mqFloat('t2i.pooled_prompt_embeds');
    for (let r = 0; r < 2; r++) {
      const ids = tokenizer.encode(generatePrompt(rows[r]));
      expect(ids).toEqual(mqInt(`t2i.input_ids.${r}`));
      const out = await encodeConditioning(graphs, runtimeConfig, ids, metaQueries);
      // The oracle ran the padded batch of 2; one row alone agrees to ~2e-6 (checked against the official code on the tiny model).
      expect(scaledError(out.queryHidden, hidden.subarray(r * Q * H, (r + 1) * Q * H))).toBeLessThan(1e-4);
      expect(scaledError(out.promptEmbeds, prompt.subarray(r * Q * 32, (r + 1) * Q * 32))).toBeLessThan(1e-4);
      expect(scaledError(out.pooledPromptEmbeds, pooled.subarray(r * 24, (r + 1) * 24))).toBeLessThan(1e-4);
    }
  });

  it('edit: image at 7/8 of the edit size scattered into the prompt, 1-D positions, conditioner', async () => {
    const image = testImage();
    const encoded = await encodeImage(graphs, runtimeConfig, image, editPixels(image.height, image.width));
    expect([encoded.gridH, encoded.gridW, encoded.tokens]).toEqual([16, 20, 80]);
    expect(scaledError(encoded.embeds, mqFloat('edit.vision.image_embeds'))).toBeLessThan(1e-4);
    const rows = ['make the sky purple', 'blurry, low quality'];
    const hidden = mqFloat('edit.query_hidden');
    const prompt = mqFloat('edit.prompt_embeds');
    for (let r = 0; r < 2; r++) {
      const ids = tokenizer.encode(expandImagePad(editPrompt(rows[r]), encoded.tokens));
      expect(ids).toEqual(mqInt(`edit.input_ids.${r}`));
      const out = await encodeConditioning(graphs, runtimeConfig, ids, metaQueries, { imageEmbeds: encoded.embeds });
      expect(scaledError(out.queryHidden, hidden.subarray(r * Q * H, (r + 1) * Q * H))).toBeLessThan(1e-4);
      expect(scaledError(out.promptEmbeds, prompt.subarray(r * Q * 32, (r + 1) * Q * 32))).toBeLessThan(1e-4);
    }
  });

  it('generate/edit conditioning pairs (what the Kontext sampler takes) equal the oracle rows', async () => {
    const model = { graphs, config: runtimeConfig, tokenizer, metaQueries };
    const t2i = await generateConditioning(model, 'a red cube on a wooden table');
    expect(scaledError(t2i.positive.promptEmbeds, mqFloat('t2i.prompt_embeds').subarray(0, Q * 32))).toBeLessThan(1e-4);
    expect(scaledError(t2i.negative.pooledPromptEmbeds, mqFloat('t2i.pooled_prompt_embeds').subarray(24))).toBeLessThan(1e-4);
    const edit = await editConditioning(model, testImage(), 'make the sky purple', 'blurry, low quality');
    expect(scaledError(edit.negative.promptEmbeds, mqFloat('edit.prompt_embeds').subarray(Q * 32))).toBeLessThan(1e-4);
    expect(scaledError(edit.positive.pooledPromptEmbeds, mqFloat('edit.pooled_prompt_embeds').subarray(0, 24))).toBeLessThan(1e-4);
    expect(EDIT_NEGATIVE_PROMPT.startsWith('blurry, low quality, low resolution')).toBe(true);
  });

  it('understand: tokens equal generate() with the checkpoint generation config (M-RoPE, penalty over the prompt)', async () => {
    const image = testImage();
    const encoded = await encodeImage(graphs, runtimeConfig, image, { min: DEFAULT_MIN_PIXELS, max: DEFAULT_MAX_PIXELS });
    expect([encoded.gridH, encoded.gridW]).toEqual([18, 22]);
    const ids = tokenizer.encode(expandImagePad(understandPrompt('Describe the image in detail.', true), encoded.tokens));
    expect(ids).toEqual(mqInt('understand.input_ids'));
    const streamed: number[] = [];
    const { tokens, finish } = await understandTokens(graphs, runtimeConfig, ids, encoded, {
      sampling: QWEN25_VL_GENERATION,
      maxTokens: mqNotes['understand.max_new_tokens'] as number,
      eosIds: QWEN25_VL_EOS,
      random: () => 0.5,
      onToken: (id) => streamed.push(id),
    });
    expect(tokens).toEqual(mqInt('understand.tokens'));
    expect(streamed).toEqual(tokens);
    expect(finish).toBe('length');
    expect(tokenizer.decode(tokens, { skipSpecialTokens: true })).toBe(mqNotes['understand.decoded']);
  });
});

describe('Metaquery understanding on onnxruntime-web (wasm) equals the oracle too', () => {
  it('same tokens as generate()', async () => {
    const { graphs, dispose } = await fixtureGraphs('fp32', 'web');
    try {
      const encoded = await encodeImage(graphs, runtimeConfig, testImage(), { min: DEFAULT_MIN_PIXELS, max: DEFAULT_MAX_PIXELS });
      const ids = qwenTokenizer().encode(expandImagePad(understandPrompt('Describe the image in detail.', true), encoded.tokens));
      const { tokens } = await understandTokens(graphs, runtimeConfig, ids, encoded, {
        sampling: QWEN25_VL_GENERATION,
        maxTokens: 10,
        eosIds: QWEN25_VL_EOS,
        random: () => 0.5,
      });
      expect(tokens).toEqual(mqInt('understand.tokens'));
    } finally {
      await dispose();
    }
  });
});
