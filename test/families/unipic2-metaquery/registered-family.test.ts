import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { convertModel, registerConverter } from '../../../src/convert/index.js';
import { UniPic } from '../../../src/index.node.js';
import { metaqueryConverter } from '../../../src/families/unipic2-metaquery/converter.js';
import { fixtureCheckpoint } from './support/graph-harness.js';
import { MQ_FIXTURES, mqInt, mqNotes } from './support/goldens.js';

describe('unipic2-metaquery through the family seam: convertModel → unipic.json → UniPic.load → understand', () => {
  let checkpoint: string;
  let out: string;
  beforeAll(async () => {
    registerConverter(metaqueryConverter);
    checkpoint = fixtureCheckpoint();
    out = join(checkpoint, 'model');
    const result = await convertModel(checkpoint, out, { dtypes: ['fp32'] });
    expect(result.family).toBe('unipic2-metaquery');
  });
  afterAll(() => rmSync(checkpoint, { recursive: true, force: true }));

  it('the manifest names the family and its sections', () => {
    const manifest = JSON.parse(readFileSync(join(out, 'unipic.json'), 'utf8'));
    expect(manifest.family).toBe('unipic2-metaquery');
    expect(Object.keys(manifest.graphs).sort()).toEqual(['conditioner', 'embed', 'llm', 'lm_head', 'vision']);
    expect(manifest.sampling).toEqual({ doSample: true, temperature: 0.1, topK: 1, topP: 0.001, repetitionPenalty: 1.05, eosIds: [151645, 151643] });
  });

  it('UniPic.load offers understand only, and it reproduces the oracle tokens (defaults from the manifest)', async () => {
    const backend = new NodeOrtBackend();
    const model = await UniPic.load(out, { backend, device: 'cpu', family: 'unipic2-metaquery' });
    try {
      expect(model.family).toBe('unipic2-metaquery');
      expect(model.capabilities).toEqual(['understand']);
      const run = model.understand({ image: new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png'))), maxTokens: 10 });
      let streamed = '';
      for await (const event of run) if (event.type === 'text-delta') streamed += event.delta;
      const result = await run.result;
      expect(result.tokens).toEqual(mqInt('understand.tokens'));
      expect(result.text).toBe(mqNotes['understand.decoded']);
      expect(streamed).toBe(result.text);
      // @ts-expect-error `size` is UniPic-1's option: MetaQuery's types and its schema both refuse it
      expect(() => model.understand({ image: new Uint8Array(0), size: 512 })).toThrow();
    } finally {
      await model.dispose();
    }
  });
});
