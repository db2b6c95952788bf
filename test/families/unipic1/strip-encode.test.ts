import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../../src/core/model/graphs.js';
import type { UniPic1GraphRunner } from '../../../src/families/unipic1/call-context.js';
import { encodeLatents } from '../../../src/families/unipic1/generation/source-image.js';
import { unipic1ManifestSchema } from '../../../src/families/unipic1/manifest.js';
import type { BackendSession } from '../../../src/spec/backend.js';
import { maxNormalizedError, randomArray } from '../../convert/graphs/layers/support/graph-runner.js';
import { tinyModelDir } from '../../support/tiny-model.js';

describe('UniPic-1 encode through the converted strip encoder', () => {
  // The converter's vae_encoder_strips and manifest plan, run by encodeLatents, against the same
  // folder's one-shot vae_encoder.
  it('gives the one-shot latents (strips forced at 64 px)', async () => {
    const folder = await tinyModelDir();
    const manifest = unipic1ManifestSchema.parse(JSON.parse(readFileSync(join(folder, 'unipic.json'), 'utf8')));
    expect(manifest.stripEncoder?.graph).toBe('vae_encoder_strips');
    const backend = new NodeOrtBackend();
    await backend.init({ device: 'cpu' });
    const sessions = new Map<string, Promise<BackendSession>>();
    const session = (name: string) => {
      if (!sessions.has(name)) sessions.set(name, backend.createSession({ name, path: join(folder, manifest.graphs[name as 'vae_encoder']!.fp32!.file) }));
      return sessions.get(name)!;
    };
    const ran: string[] = [];
    const graphs = new CheckedGraphs((name) => {
      ran.push(name);
      return session(name);
    }) as unknown as UniPic1GraphRunner;
    try {
      const size = 64;
      const pixels = randomArray(3 * size * size, 11, 1);
      const oneShot = await encodeLatents(graphs, size, pixels);
      expect(ran).toEqual(['vae_encoder']);
      // Below the strip side the one-shot graph runs even with a plan.
      await encodeLatents(graphs, size, pixels, undefined, manifest.stripEncoder);
      expect(ran).toEqual(['vae_encoder', 'vae_encoder']);
      const strips = await encodeLatents(graphs, size, pixels, undefined, manifest.stripEncoder, 0);
      expect(ran.filter((name) => name === 'vae_encoder_strips').length).toBeGreaterThan(manifest.stripEncoder!.passes.length);
      expect(strips.length).toBe(oneShot.length);
      expect(maxNormalizedError(strips, oneShot)).toBeLessThan(1e-5);
    } finally {
      await backend.dispose();
    }
  });
});
