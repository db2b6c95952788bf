import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { createKvCache } from '../../src/core/create-kv-cache.js';
import { runLlmStep } from '../../src/core/llm-kv-cache.js';
import { CheckedGraphs } from '../../src/core/model/graphs.js';
import { float32, takeFloat32 } from '../../src/core/tensor.js';
import { prefillCache } from '../../src/families/unipic1/generation/chunked-prefill.js';
import type { UniPic1Graphs } from '../../src/families/unipic1/graphs.js';
import type { UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import type { BackendSession } from '../../src/spec/backend.js';
import type { KvCacheKind } from '../../src/spec/manifest.js';
import { tinyModelDir } from '../support/tiny-model.js';

const backend = new NodeOrtBackend();
const sessions: BackendSession[] = [];
afterAll(async () => {
  for (const session of sessions) await session.dispose();
  await backend.dispose();
});

async function llmOf(kvCache: KvCacheKind) {
  const dir = await tinyModelDir(['fp32'], kvCache === 'concat' ? { kvCache } : {});
  const manifest = JSON.parse(readFileSync(join(dir, 'unipic.json'), 'utf8')) as Manifest;
  expect(manifest.kvCache ?? 'concat').toBe(kvCache);
  await backend.init({ device: 'cpu' });
  const session = await backend.createSession({ name: 'llm', path: join(dir, manifest.graphs.llm!.fp32!.file) });
  sessions.push(session);
  return { graphs: new CheckedGraphs<UniPic1Graphs>(async () => session), config: manifest.config, manifest };
}

describe.each(['in-place', 'concat'] as const)('prefillCache (%s cache)', (kind) => {
  it('gives the same cache in chunks as in one call (causal attention), for every chunk size', async () => {
    const { graphs, config, manifest } = await llmOf(kind);
    const H = config.llm.hiddenSize;
    const rows = 2;
    const length = 23;
    const embeds = Float32Array.from({ length: rows * length * H }, (_, i) => Math.sin(i * 0.37));
    const probe = float32(
      [rows, 2, H],
      Float32Array.from({ length: rows * 2 * H }, (_, i) => Math.cos(i * 0.11)),
    );
    // The cache is compared through what it does: the hidden states of two more tokens run over it.
    const probeOver = async (chunk: number) => {
      const cache = createKvCache(manifest, config.llm, rows);
      try {
        await prefillCache(graphs, cache, embeds, length, { chunk });
        expect(cache.length).toBe(length);
        return (await takeFloat32(await runLlmStep(graphs, cache, probe, 2, { hidden: true }))).data;
      } finally {
        cache.clear();
      }
    };
    const reference = await probeOver(1000);
    for (const chunk of [1, 5, 7, 22]) {
      const chunked = await probeOver(chunk);
      let worst = 0;
      for (let i = 0; i < chunked.length; i++) worst = Math.max(worst, Math.abs(chunked[i] - reference[i]));
      // Different chunking only reorders float32 sums: 1e-5 absolute on unit-scale values.
      expect(worst, `chunk ${chunk}`).toBeLessThan(1e-5);
    }
  }, 180_000);
});
