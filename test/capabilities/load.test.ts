import { describe, expect, it } from 'vitest';
import { UniPic, type LoadProgressEvent } from '../../src/index.node.js';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { MockBackend } from '../../src/testing/index.js';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { tinyModelDir } from '../support/tiny-model.js';
import type { GraphSource, SessionOptions } from '../../src/spec/backend.js';

describe('UniPic.load', () => {
  it('reports cache-read, session-create and warmup progress, each phase monotonic and complete', async () => {
    const events: LoadProgressEvent[] = [];
    const model = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: 'fp32', warmup: true, onProgress: (e) => events.push(e) });
    try {
      for (const phase of ['cache-read', 'session-create', 'warmup'] as const) {
        const own = events.filter((e) => (phase === 'cache-read' ? e.phase === 'cache-read' || e.phase === 'download' : e.phase === phase));
        expect(own.length, phase).toBeGreaterThan(0);
        const total = own[0].total;
        expect(
          own.every((e) => e.total === total),
          `${phase}: total fixed up front`,
        ).toBe(true);
        own.forEach((e, i) => expect(e.loaded).toBeGreaterThanOrEqual(i ? own[i - 1].loaded : 0));
        expect(own.at(-1)!.loaded, phase).toBe(total);
      }
      const created = new Set(events.filter((e) => e.phase === 'session-create').map((e) => e.file));
      expect([...created].sort()).toEqual(Object.keys(model.dtypes).sort());
      expect(events.filter((e) => e.phase === 'warmup' && e.fileLoaded === 1).map((e) => e.file)).toEqual(['embed', 'lm_head', 'diffusion_head']);
    } finally {
      await model.dispose();
    }
  });

  it('creates sessions lazily by default: only the graphs a call needs', async () => {
    const model = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: 'fp32' });
    const created: string[] = [];
    model.on('session-create', ({ graph }) => created.push(graph));
    try {
      await model.generate({ prompt: 'x', size: 64, steps: 1, diffusionSteps: 2, seed: 1 }).result;
      expect(created.sort()).toEqual(['diffusion_head', 'embed', 'llm', 'mar_decoder', 'mar_encoder', 'vae_decoder']);
    } finally {
      await model.dispose();
    }
  });

  it('prepares only the capabilities asked for, and picks q4 on the CPU when the folder has it', async () => {
    const model = await UniPic.load(await tinyModelDir(), { device: 'cpu', capabilities: ['understand'] });
    try {
      expect(model.capabilities).toEqual(['understand']);
      expect(Object.keys(model.dtypes).sort()).toEqual(['embed', 'llm', 'lm_head', 'mar_encoder', 'vae_encoder', 'vae_encoder_strips']);
      expect(model.dtypes.llm).toBe('q4');
      expect(model.dtypes.vae_encoder).toBe('q4'); // the VAE variant is the shared fp32 file
      expect(() => model.generate({ prompt: 'x' })).toThrow(/not loaded for generate/);
    } finally {
      await model.dispose();
    }
  });

  it('refuses an explicit dtype the folder lacks, naming what it has (no silent substitute)', async () => {
    const error = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: 'fp16' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).message).toMatch(/^dtype fp16 is not in this model \(.* have fp32, q4\)/);
    const perGraph = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: { llm: 'q4f16' } }).catch((reason: unknown) => reason);
    expect(perGraph).toBeInstanceOf(InvalidOptionsError);
    expect((perGraph as InvalidOptionsError).details).toEqual({ issues: [{ path: 'dtype.llm', message: 'q4f16 is not in this model; it has fp32, q4' }] });
  });

  it("'auto' on a device without fp16 and a half-precision-only folder: uses it, with one warning", async () => {
    const model = await UniPic.load(await tinyModelDir(['fp16']), { device: 'cpu', capabilities: ['understand'] });
    try {
      expect(model.dtypes.llm).toBe('fp16');
      const fallbacks = model.loadWarnings.filter((w) => w.code === 'dtype-fallback');
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]?.message).toMatch(/^cpu has no fp16 support, but this model has only half-precision graphs for .*: they run, slowly$/);
    } finally {
      await model.dispose();
    }
  });

  it('disposes every session it created, and leaves a caller-owned backend usable', async () => {
    const backend = new NodeOrtBackend();
    const model = await UniPic.load(await tinyModelDir(), { backend, device: 'cpu', dtype: 'fp32', eager: true });
    expect(backend.liveSessions).toBe(11); // every graph of the three capabilities, the optional strip decoder and encoder included
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
    const again = await UniPic.load(await tinyModelDir(), { backend, device: 'cpu', dtype: 'fp32', capabilities: ['understand'], eager: true });
    expect(backend.liveSessions).toBe(6); // understand's five graphs and the optional strip encoder
    await again.dispose();
    await backend.dispose();
  });

  it('frees the sessions already created when an eager load fails part-way', async () => {
    const backend = new MockBackend({ graphs: { embed: () => ({}), llm: () => ({}) } });
    await expect(UniPic.load(await tinyModelDir(), { backend, eager: true })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    expect(backend.liveSessions).toBe(0);
  });

  it('asks the backend to give back the working memory of the large, rarely run graphs only', async () => {
    const options = new Map<string, SessionOptions>();
    const backend = new (class extends NodeOrtBackend {
      override createSession(graph: GraphSource, sessionOptions?: SessionOptions) {
        options.set(graph.name, sessionOptions ?? {});
        return super.createSession(graph, sessionOptions);
      }
    })();
    const model = await UniPic.load(await tinyModelDir(), { backend, device: 'cpu', dtype: 'fp32', eager: true });
    try {
      const transient = [...options].filter(([, o]) => o.keepWorkingMemory === false).map(([name]) => name);
      expect(transient.sort()).toEqual(['mar_decoder', 'mar_encoder', 'vae_decoder', 'vae_encoder', 'vae_encoder_strips']);
      expect(options.get('vae_decoder_strips')?.keepWorkingMemory).toBeUndefined();
      expect(options.get('llm')?.keepWorkingMemory).toBeUndefined();
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });
});
