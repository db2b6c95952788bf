import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UniPicModel } from '../../../src/core/model/unipic-model.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import type { KontextTasks } from '../../../src/families/unipic2-kontext/runtime.js';
import { UniPic, wrapBackend } from '../../../src/index.node.js';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { freshDir, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

const SOURCE_IMAGE = fileURLToPath(new URL('../../fixtures/images/sources/rgb-300x200.png', import.meta.url));
const small = { prompt: 'a red fox', width: 32, height: 32, steps: 2 } as const;
const edit = { image: SOURCE_IMAGE, prompt: 'make it blue', steps: 2, longerEdge: 64, sizeMultiple: 16 } as const;
const TEXT = ['clip_g', 'clip_l', 't5_encoder'];

let folder: string;
let reference: UniPicModel<KontextTasks>;

/** Sessions of one model's backend: what was created and what was freed, per graph. */
function tracedBackend() {
  const created: string[] = [];
  const disposed: string[] = [];
  const backend = wrapBackend(new NodeOrtBackend(), {
    name: 'trace',
    async wrapCreateSession({ graph, createSession }) {
      const session = await createSession();
      created.push(graph.name);
      const dispose = session.dispose.bind(session);
      return Object.assign(Object.create(session), {
        dispose: async () => {
          disposed.push(graph.name);
          await dispose();
        },
      });
    },
  });
  return { backend, created, disposed };
}

async function open(lowMemory: boolean) {
  const traced = tracedBackend();
  const model = (await UniPic.load(folder, {
    backend: traced.backend,
    device: 'cpu',
    dtype: 'fp32',
    threads: 1,
    lowMemory,
  })) as unknown as UniPicModel<KontextTasks>;
  const released: string[] = [];
  model.on('session-release', ({ graph }) => released.push(graph));
  return { model, released, ...traced };
}

beforeAll(async () => {
  folder = freshDir('low-memory');
  await convertKontextCheckpoint(TINY_CHECKPOINT, folder, { dtypes: ['fp32'] });
  reference = await UniPic.load(folder, { device: 'cpu', dtype: 'fp32', threads: 1, family: 'unipic2-kontext' });
});

afterAll(async () => {
  await reference?.dispose();
});

describe('lowMemory: text encoders freed after encoding', () => {
  it('frees CLIP-L, CLIP-G and T5 after each generate, recreates them on the next, same images', async () => {
    const expected = await reference.generate({ ...small, seed: 5 }).result;
    const { model, created, disposed, released } = await open(true);
    try {
      for (const call of [1, 2]) {
        const result = await model.generate({ ...small, seed: 5 }).result;
        expect(Array.from(result.latent.data)).toEqual(Array.from(expected.latent.data));
        expect([...disposed].sort()).toEqual(Array(call).fill(TEXT).flat().sort());
        expect([...released].sort()).toEqual([...disposed].sort());
        // Each call created the text encoders again; the transformer and decoder stay.
        expect(created.filter((g) => g === 'clip_l')).toHaveLength(call);
        expect(created.filter((g) => g === 'transformer')).toHaveLength(1);
      }
    } finally {
      await model.dispose();
    }
  });

  it('frees the VAE encoder after an edit encodes its reference', async () => {
    const expected = await reference.edit({ ...edit, seed: 6 }).result;
    const { model, disposed } = await open(true);
    try {
      const result = await model.edit({ ...edit, seed: 6 }).result;
      expect(Array.from(result.latent.data)).toEqual(Array.from(expected.latent.data));
      expect([...disposed].sort()).toEqual([...TEXT, 'vae_encoder'].sort());
    } finally {
      await model.dispose();
    }
  });

  it('frees what it created when aborted while encoding, and the next call is still right', async () => {
    const expected = await reference.generate({ ...small, seed: 8 }).result;
    const { model, created, disposed } = await open(true);
    try {
      const controller = new AbortController();
      // Abort once CLIP-G's session exists: the check before its run throws.
      model.on('session-create', ({ graph }) => {
        if (graph === 'clip_g') controller.abort();
      });
      await expect(model.generate({ ...small, seed: 8, signal: controller.signal }).result).rejects.toMatchObject({ code: 'ABORTED' });
      expect(created).not.toContain('transformer');
      expect([...disposed].sort()).toEqual(['clip_g', 'clip_l']);
      const result = await model.generate({ ...small, seed: 8 }).result;
      expect(Array.from(result.latent.data)).toEqual(Array.from(expected.latent.data));
    } finally {
      await model.dispose();
    }
  });

  it('keeps every session without lowMemory', async () => {
    const { model, disposed, released } = await open(false);
    try {
      await model.generate({ ...small, seed: 9 }).result;
      await model.generate({ ...small, seed: 9 }).result;
      expect(disposed).toEqual([]);
      expect(released).toEqual([]);
    } finally {
      await model.dispose();
    }
    // dispose() still frees everything (and emits no session-release: that event is for lowMemory frees).
    expect([...disposed].sort()).toEqual(['clip_g', 'clip_l', 't5_encoder', 'transformer', 'vae_decoder']);
    expect(released).toEqual([]);
  });
});
