import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { convertMetaquery, METAQUERY_CONFIG_FILE, VLM_FOLDER } from '../../../src/families/unipic2-metaquery/convert/convert-metaquery.js';
import { openFolderWeights } from '../../../src/convert/graphs/qwen-vl/folder-weights.js';
import { TINY_QWEN25_VL_CONFIG as TINY_VLM_CONFIG } from '../../../src/convert/graphs/qwen-vl/tiny-qwen25-vl.js';
import { makeTinyMetaquery } from '../../../src/families/unipic2-metaquery/convert/tiny/make-tiny-metaquery.js';

/**
 * Qwen2.5-VL-7B does not tie its head (`tie_word_embeddings: false`): the `lm_head` graph must
 * project with `lm_head.weight`, not the embedding table. The oracle's tiny checkpoint is tied, so
 * its golden tokens cannot tell the two apart; make-tiny's untied checkpoint can.
 */
describe('Metaquery lm_head with an untied checkpoint', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mq-untied-'));
    await makeTinyMetaquery(join(dir, 'ckpt'), { seed: 3 });
    await convertMetaquery(join(dir, 'ckpt'), join(dir, 'model'), { llmDtype: 'fp32' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logits = hidden · lm_head.weightᵀ (and not the embedding)', async () => {
    expect(TINY_VLM_CONFIG.tie_word_embeddings).toBe(false);
    const H = TINY_VLM_CONFIG.hidden_size;
    const V = TINY_VLM_CONFIG.vocab_size;
    const source = await openFolderWeights(join(dir, 'ckpt', VLM_FOLDER));
    const head = source.weights.float32('lm_head.weight');
    const embed = source.weights.float32('model.embed_tokens.weight');
    await source.close();
    const described = JSON.parse(readFileSync(join(dir, 'model', METAQUERY_CONFIG_FILE), 'utf8')) as { graphs: { lm_head: { file: string } } };
    const session = await ort.InferenceSession.create(join(dir, 'model', described.graphs.lm_head.file));
    const hidden = Float32Array.from({ length: H }, (_, i) => Math.sin(i + 1));
    const out = await session.run({ hidden: new ort.Tensor('float32', hidden, [1, H]) });
    await session.release();
    const logits = out.logits.data as Float32Array;
    const project = (table: Float32Array) => Float32Array.from({ length: V }, (_, v) => hidden.reduce((sum, h, i) => sum + h * table[v * H + i], 0));
    const expected = project(head);
    const wrong = project(embed);
    let error = 0;
    let distance = 0;
    let scale = 0;
    for (let v = 0; v < V; v++) {
      error = Math.max(error, Math.abs(logits[v] - expected[v]));
      distance = Math.max(distance, Math.abs(wrong[v] - expected[v]));
      scale = Math.max(scale, Math.abs(expected[v]));
    }
    expect(error / scale).toBeLessThan(1e-5);
    expect(distance / scale).toBeGreaterThan(0.1);
  });
});
