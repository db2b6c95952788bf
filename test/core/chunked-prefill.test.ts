import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { prefillCache } from '../../src/families/unipic1/generation/chunked-prefill.js';
import type { UniPic1Graphs } from '../../src/families/unipic1/graphs.js';
import { CheckedGraphs } from '../../src/core/model/graphs.js';
import type { BackendSession } from '../../src/spec/backend.js';
import type { UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import { tinyModelDir } from '../support/tiny-model.js';
import { readFileSync } from 'node:fs';

let backend: NodeOrtBackend;
let session: BackendSession;
let manifest: Manifest;
beforeAll(async () => {
  const dir = await tinyModelDir();
  manifest = JSON.parse(readFileSync(join(dir, 'unipic.json'), 'utf8')) as Manifest;
  backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  session = await backend.createSession({ name: 'llm', path: join(dir, manifest.graphs.llm!.fp32!.file) });
}, 180_000);
afterAll(async () => {
  await session?.dispose();
  await backend?.dispose();
});

describe('prefillCache', () => {
  it('gives the same cache in chunks as in one call (causal attention), for every chunk size', async () => {
    const graphs = new CheckedGraphs<UniPic1Graphs>(async () => session);
    const config = manifest.config;
    const rows = 2;
    const length = 23;
    const embeds = Float32Array.from({ length: rows * length * config.llm.hiddenSize }, (_, i) => Math.sin(i * 0.37));
    const whole = await prefillCache(graphs, config, embeds, rows, length, { chunk: 1000 });
    const reference = Object.fromEntries(await Promise.all(Object.entries(whole).map(async ([k, t]) => [k, (await t.download()).data as Float32Array])));
    for (const chunk of [1, 5, 7, 22]) {
      const chunked = await prefillCache(graphs, config, embeds, rows, length, { chunk });
      for (const [name, tensor] of Object.entries(chunked)) {
        const data = (await tensor.download()).data as Float32Array;
        expect(data.length).toBe(reference[name].length);
        let worst = 0;
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - reference[name][i]));
        // Different chunking only reorders float32 sums: 1e-5 absolute on unit-scale values.
        expect(worst, `${name}, chunk ${chunk}`).toBeLessThan(1e-5);
        tensor.dispose();
      }
    }
    for (const tensor of Object.values(whole)) tensor.dispose();
  });
});
