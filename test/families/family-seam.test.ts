import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import type { UniPicModel } from '../../src/core/model/unipic-model.js';
import { AbortError, InvalidModelError, UnsupportedTaskError, UniPic, registerFamily } from '../../src/index.node.js';
import { MockBackend } from '../../src/testing/index.js';
import { tinyModelDir } from '../support/tiny-model.js';
import { INVERT_FAMILY, invertFamily, writeInvertModel, type InvertTasks } from './support/invert-family.js';

let folder: string;
const image = { data: new Uint8Array([0, 10, 20, 255, 128, 7]), width: 2, height: 1, channels: 3 as const };

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'unipic-family-'));
  registerFamily(invertFamily);
  await writeInvertModel(join(folder, 'invert'));
});
afterAll(async () => rm(folder, { recursive: true, force: true }));

/** `UniPic.load` typed for the invert family's tasks (the `UniPic` class types UniPic-1's). */
const loadInvert = async (backend = new NodeOrtBackend()) =>
  (await UniPic.load(join(folder, 'invert'), { backend, device: 'cpu' })) as unknown as UniPicModel<InvertTasks> & { dispose(): Promise<void> };

describe('a family registered from a test', () => {
  it('loads from its manifest, offers only its task, and runs its graph through the GraphBuilder-built ONNX file', async () => {
    const backend = new NodeOrtBackend();
    const model = await loadInvert(backend);
    try {
      expect(model.family).toBe(INVERT_FAMILY);
      expect(model.capabilities).toEqual(['edit']);
      const run = model.edit({ image });
      const events = [];
      for await (const event of run) events.push(event);
      const result = await run.result;
      expect(events).toEqual([{ type: 'inverted', width: 2, height: 1 }]);
      expect([...result.data]).toEqual([255, 245, 235, 0, 127, 248]);
    } finally {
      await model.dispose();
    }
    expect(backend.liveSessions).toBe(0);
  });

  it('refuses a task its family lacks synchronously, with a typed error, before anything is queued', async () => {
    const model = await loadInvert();
    try {
      const call = () => (model as unknown as UniPic).generate({ prompt: 'x' });
      expect(call).toThrow(UnsupportedTaskError);
      expect(call).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TASK', details: expect.objectContaining({ task: 'generate', family: INVERT_FAMILY }) }));
      expect(model.pendingCalls).toBe(0);
    } finally {
      await model.dispose();
    }
  });

  it('queues its calls, emits run events, and honours abort like any model (mock backend)', async () => {
    const backend = new MockBackend({
      graphs: { invert: (feeds) => ({ inverted: { type: 'float32', dims: feeds.pixels.dims, data: (feeds.pixels.data as Float32Array).map((v) => 255 - v) } }) },
    });
    const model = await loadInvert(backend as unknown as NodeOrtBackend);
    const ends: string[] = [];
    model.on('run-end', ({ outcome }) => ends.push(outcome));
    try {
      const resume = backend.pause();
      const first = model.edit({ image });
      const second = model.edit({ image });
      expect(model.pendingCalls).toBe(2);
      second.abort(new AbortError('not wanted'));
      await expect(second.result).rejects.toBeInstanceOf(AbortError);
      resume();
      expect([...(await first.result).data]).toEqual([255, 245, 235, 0, 127, 248]);
      expect(ends).toEqual(['success']);
    } finally {
      await model.dispose();
    }
    expect(backend.liveSessions).toBe(0);
    expect(backend.liveTensors).toBe(0);
  });

  it('an unknown family or family version is an InvalidModelError naming it', async () => {
    await writeInvertModel(join(folder, 'unknown'), { family: 'no-such-family' });
    await expect(UniPic.load(join(folder, 'unknown'), { backend: new MockBackend() })).rejects.toThrow(/model family "no-such-family" is not known/);
    await writeInvertModel(join(folder, 'future'), { familyVersion: 7 });
    await expect(UniPic.load(join(folder, 'future'), { backend: new MockBackend() })).rejects.toBeInstanceOf(InvalidModelError);
  });
});

describe('UniPic-1 folders converted before families', () => {
  it('a manifest without family fields loads as unipic1 with every task', async () => {
    const source = await tinyModelDir(['fp32']);
    const old = join(folder, 'old-format');
    await cp(source, old, { recursive: true });
    const manifest = JSON.parse(await readFile(join(old, 'unipic.json'), 'utf8'));
    delete manifest.family;
    delete manifest.familyVersion;
    await writeFile(join(old, 'unipic.json'), JSON.stringify(manifest));
    const model = await UniPic.load(old, { backend: new MockBackend(), device: 'cpu' });
    try {
      expect(model.family).toBe('unipic1');
      expect(model.manifest.familyVersion).toBe(1);
      expect([...model.capabilities].sort()).toEqual(['edit', 'generate', 'understand']);
    } finally {
      await model.dispose();
    }
  });
});
