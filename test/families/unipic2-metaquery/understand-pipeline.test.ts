import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextRunEvent } from '../../../src/core/understanding/events.js';
import type { MqGraphs } from '../../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { ImagePrefixCache, understandMetaquery } from '../../../src/families/unipic2-metaquery/runtime/understand.js';
import { generationDefaults, metaqueryUnderstandSchema } from '../../../src/families/unipic2-metaquery/runtime/understand-options.js';
import { QWEN25_VL_EOS } from '../../../src/families/unipic2-metaquery/runtime/understand-tokens.js';
import { qwenTokenizer } from '../../core/text/support/qwen-tokenizer.js';
import { MQ_CHECKPOINT, MQ_FIXTURES, mqInt, mqNotes } from './support/goldens.js';
import { fixtureGraphs, runtimeConfig } from './support/mq-runtime-harness.js';

describe('Metaquery understand pipeline (options, streaming, image-prefix cache) on the oracle checkpoint', () => {
  let graphs: MqGraphs;
  let dispose: () => Promise<void>;
  const cache = new ImagePrefixCache();
  const generation = JSON.parse(readFileSync(`${MQ_CHECKPOINT}Qwen2.5-VL-7B-Instruct/generation_config.json`, 'utf8'));
  const schema = metaqueryUnderstandSchema({ ...generationDefaults(generation), minPixels: 3136, maxPixels: 12845056 });
  const image = new Uint8Array(readFileSync(`${MQ_FIXTURES}image.png`));

  beforeAll(async () => {
    ({ graphs, dispose } = await fixtureGraphs());
  });
  afterAll(async () => {
    cache.dispose();
    await dispose();
  });

  const run = async (options: Record<string, unknown>) => {
    const events: TextRunEvent[] = [];
    const result = await understandMetaquery(
      { graphs, config: runtimeConfig, tokenizer: qwenTokenizer(), eosIds: QWEN25_VL_EOS, cache, emit: (e) => events.push(e) },
      schema.parse({ image, ...options }),
    );
    return { result, events };
  };

  it('defaults come from generation_config.json; invalid options are refused', () => {
    const parsed = schema.parse({ image });
    expect([parsed.doSample, parsed.topK, parsed.topP, parsed.temperature, parsed.repetitionPenalty]).toEqual([true, 1, 0.001, 0.1, 1.05]);
    expect(parsed.prompt).toBe('Describe the image in detail.');
    expect(() => schema.parse({ image, minPixels: 10, maxPixels: 5 })).toThrow();
    expect(() => schema.parse({ image, size: 512 })).toThrow();
  });

  it('streams the oracle tokens; a second question on the same image reuses the prefix cache', async () => {
    const first = await run({ maxTokens: 10 });
    expect(first.result.tokens).toEqual(mqInt('understand.tokens'));
    expect(first.result.text).toBe(mqNotes['understand.decoded']);
    expect(first.result.reusedImageCache).toBe(false);
    const deltas = first.events.filter((e) => e.type === 'text-delta').map((e) => (e as { delta: string }).delta);
    expect(deltas.join('')).toBe(first.result.text);
    expect(first.events.at(-1)?.type).toBe('finish');
    expect(first.result.usage.promptTokens).toBe(mqInt('understand.input_ids').length);

    const again = await run({ maxTokens: 10 });
    expect(again.result.reusedImageCache).toBe(true);
    expect(again.result.tokens).toEqual(first.result.tokens);

    const other = await run({ prompt: 'What colours are there?', maxTokens: 6 });
    expect(other.result.reusedImageCache).toBe(true);
    cache.dispose();
    const fresh = await run({ prompt: 'What colours are there?', maxTokens: 6 });
    expect(fresh.result.reusedImageCache).toBe(false);
    expect(other.result.tokens).toEqual(fresh.result.tokens);
  });

  it('a stop string ends the text before it', async () => {
    const full = mqNotes['understand.decoded'] as string;
    const stop = full.slice(10, 14);
    const { result } = await run({ maxTokens: 10, stop: [stop] });
    expect(result.finishReason).toBe('stop-string');
    expect(result.text).toBe(full.slice(0, full.indexOf(stop)));
  });
});
