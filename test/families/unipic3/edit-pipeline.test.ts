import { cpSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { WebOrtBackend } from '../../../adapters/web-ort/index.js';
import { convertModel } from '../../../src/convert/index.js';
import type { NoisePurpose, RandomSource } from '../../../src/core/random/random-source.js';
import { UniPic } from '../../../src/index.node.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import { MockBackend } from '../../../src/testing/mock-backend.js';
import { cudaOnCpuRuntime, fakeNvidiaSmi, webgpuOnWasmRuntime } from '../../adapters/support/fake-gpu.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const EDIT = join(FIXTURES, 'unipic3', 'edit');
const ASSETS = fileURLToPath(new URL('../../../assets/qwen2.5-tokenizer/', import.meta.url));
const meta = JSON.parse(readFileSync(join(EDIT, 'golden.json'), 'utf8')) as { width: number; height: number; steps: number; scale: number; instruction: string };
const tensors = decodeSafetensors(new Uint8Array(readFileSync(join(EDIT, 'golden.safetensors'))), 'golden.safetensors').tensors;
const floats = (name: string) => new Float32Array(tensors.get(name)?.bytes.slice().buffer ?? new ArrayBuffer(0));
const prompt = decodeSafetensors(new Uint8Array(readFileSync(join(FIXTURES, 'unipic3', 'prompt', 'golden.safetensors'))), 'p').tensors;
const input = (k: number) => {
  const t = prompt.get(`input_${k}`);
  if (!t) throw new Error(`no input_${k}`);
  return { data: t.bytes.slice(), width: t.shape[1], height: t.shape[0], channels: 3 as const };
};

/** Replays the oracle's start noise and per-step re-noise draws. */
class InjectedNoise implements RandomSource {
  readonly draws: NoisePurpose[] = [];
  order(): Int32Array {
    throw new Error('UniPic-3 draws no orders');
  }
  uniform(): number {
    throw new Error('UniPic-3 draws no uniforms');
  }
  normal(count: number, purpose: NoisePurpose): Float32Array {
    this.draws.push(purpose);
    const name = purpose.kind === 'initial-latent' ? 'initial_noise' : purpose.kind === 'sampler-noise' ? `renoise_${purpose.step}` : '';
    const data = floats(name);
    if (data.length !== count) throw new Error(`${purpose.kind}: ${count} values asked, the oracle drew ${data.length}`);
    return data;
  }
}

type EditModel = {
  capabilities: readonly string[];
  edit(
    options: Record<string, unknown>,
  ): AsyncIterable<{ type: string }> & { result: Promise<{ images: { data: Uint8ClampedArray; width: number; height: number }[]; latent: { data: Float32Array } }> };
  generate(options: Record<string, unknown>): unknown;
  dispose(): Promise<void>;
};

describe('UniPic-3 edit end to end against the oracle (tiny modules, two inputs, injected noise)', () => {
  let root: string;
  let out: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'unipic3-edit-'));
    cpSync(join(EDIT, 'checkpoint', 'transformer'), join(root, 'transformer'), { recursive: true });
    for (const part of ['vae', 'scheduler', 'model_index.json']) cpSync(join(FIXTURES, 'unipic3', 'checkpoint', part), join(root, part), { recursive: true });
    cpSync(join(FIXTURES, 'metaquery', 'checkpoint', 'Qwen2.5-VL-7B-Instruct'), join(root, 'text_encoder'), { recursive: true });
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(ASSETS, f), join(root, 'text_encoder', f));
    out = join(root, 'model');
    const result = await convertModel(root, out, { dtypes: ['fp32'] });
    expect(result.family).toBe('unipic3');
  }, 300_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const run = async (sampler: 'teacher' | 'distilled') => {
    const manifestPath = join(out, 'unipic.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.config.sampler = sampler;
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    const model = (await UniPic.load(out, { backend: new NodeOrtBackend(), device: 'cpu', family: 'unipic3' })) as unknown as EditModel;
    try {
      expect(model.capabilities).toEqual(['edit']);
      expect(() => model.generate({ prompt: 'x' })).toThrow();
      const random = new InjectedNoise();
      const call = model.edit({
        images: [input(0), input(1)],
        prompt: meta.instruction,
        width: meta.width,
        height: meta.height,
        steps: meta.steps,
        guidance: meta.scale,
        random,
      });
      const steps: number[] = [];
      for await (const event of call) if (event.type === 'step-finish') steps.push(steps.length);
      const result = await call.result;
      expect(steps).toHaveLength(meta.steps);
      return { result, draws: random.draws };
    } finally {
      await model.dispose();
    }
  };

  const compare = (tag: string, result: Awaited<ReturnType<typeof run>>['result']) => {
    const latent = floats(`${tag}.latent`);
    let worst = 0;
    for (let i = 0; i < latent.length; i++) worst = Math.max(worst, Math.abs(result.latent.data[i] - latent[i]));
    expect(worst).toBeLessThan(2e-3);
    const expected = tensors.get(`${tag}.pixels`)?.bytes ?? new Uint8Array(0);
    const image = result.images[0];
    expect([image.width, image.height]).toEqual([meta.width, meta.height]);
    let off = 0;
    for (let i = 0; i < meta.width * meta.height; i++) for (let c = 0; c < 3; c++) off = Math.max(off, Math.abs(image.data[i * 4 + c] - expected[i * 3 + c]));
    expect(off).toBeLessThanOrEqual(1);
  };

  it('teacher: 2 Euler steps with true CFG 4.0 (4 transformer passes) → latent and pixels (±1)', async () => {
    const { result, draws } = await run('teacher');
    expect(draws).toEqual([{ kind: 'initial-latent' }]);
    compare('teacher', result);
  }, 300_000);

  it('distilled: 2 x0 / re-noise steps, ε drawn on every step (the last unused) → latent and pixels (±1)', async () => {
    const { result, draws } = await run('distilled');
    expect(draws).toEqual([{ kind: 'initial-latent' }, { kind: 'sampler-noise', step: 0 }, { kind: 'sampler-noise', step: 1 }]);
    compare('distilled', result);
  }, 300_000);

  it('options are checked at the boundary: image xor images, 1–6 images, sides multiples of 16', async () => {
    const model = (await UniPic.load(out, { backend: new NodeOrtBackend(), device: 'cpu' })) as unknown as EditModel;
    try {
      const base = { prompt: 'x', width: 64, height: 48 };
      for (const bad of [
        { ...base, image: input(0), images: [input(1)] },
        { ...base },
        { ...base, images: Array.from({ length: 7 }, () => input(0)) },
        { ...base, image: input(0), width: 72 },
        { ...base, image: input(0), guidance: 0.5 },
      ]) {
        expect(() => model.edit(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
      }
    } finally {
      await model.dispose();
    }
  }, 60_000);

  it('refuses, before reading any graph, a device that cannot hold the transformer (fake 64 kB limit), with the numbers', async () => {
    const small = new MockBackend({ limits: { deviceMemoryBytes: 64_000 } });
    await expect(UniPic.load(out, { backend: small, device: 'cpu' })).rejects.toThrow(
      expect.objectContaining({ code: 'RESOURCE_LIMIT', message: expect.stringMatching(/needs about .* GB .* but cpu here has 0\.0 GB: load with dtype 'q4'/) }),
    );
    expect(small.sessionsCreated).toHaveLength(0);
    const large = new MockBackend({ limits: { deviceMemoryBytes: 1e9 } });
    const model = (await UniPic.load(out, { backend: large, device: 'cpu' })) as unknown as EditModel;
    expect(model.capabilities).toEqual(['edit']);
    await model.dispose();
  }, 60_000);

  it('node-ort on CUDA: the memory nvidia-smi reports decides (fake nvidia-smi, CUDA run on the CPU)', async () => {
    const load = (command: string) =>
      UniPic.load(out, { backend: new NodeOrtBackend({ importRuntime: cudaOnCpuRuntime(), cudaMemory: { command } }), device: 'cuda' });
    // 1 MiB total: refused before any session, with both numbers.
    await expect(load(fakeNvidiaSmi({ stdout: '1, 1\n' }).command)).rejects.toThrow(
      expect.objectContaining({ code: 'RESOURCE_LIMIT', message: expect.stringMatching(/needs about .* GB .* but cuda here has 0\.0 GB/) }),
    );
    // An 80 GB GPU with 1 MiB free: refused on the free memory.
    await expect(load(fakeNvidiaSmi({ stdout: '81559, 1\n' }).command)).rejects.toThrow(
      expect.objectContaining({ details: expect.objectContaining({ limit: 'deviceFreeMemoryBytes' }) }),
    );
    const roomy = (await load(fakeNvidiaSmi({ stdout: '81559, 80000\n' }).command)) as unknown as EditModel & { loadWarnings: { code: string }[] };
    expect(roomy.capabilities).toEqual(['edit']);
    expect(roomy.loadWarnings).toEqual([]);
    await roomy.dispose();
    // No nvidia-smi: loads, with one warning saying the need was not checked and why.
    const unknown = (await load('/nonexistent/nvidia-smi')) as unknown as EditModel & { loadWarnings: { code: string; message: string }[] };
    expect(unknown.loadWarnings).toEqual([
      { code: 'device-memory-unknown', message: expect.stringMatching(/needs about .*; not checked \(nvidia-smi not found\)$/) },
    ]);
    await unknown.dispose();
  }, 60_000);

  it('web-ort on WebGPU: no memory figure, so one warning; the largest weight is checked against the buffer limits (fake GPUDevice limits)', async () => {
    vi.stubGlobal('navigator', { gpu: {} });
    try {
      const load = (maxStorageBufferBindingSize: number) =>
        UniPic.load(out, {
          backend: new WebOrtBackend({ importRuntime: webgpuOnWasmRuntime({ maxBufferSize: 2 ** 30, maxStorageBufferBindingSize }) }),
          device: 'webgpu',
        });
      await expect(load(64)).rejects.toThrow(
        expect.objectContaining({
          code: 'RESOURCE_LIMIT',
          message: expect.stringMatching(
            /largest weight \(graph \w+ at \w+\) is .* GB, but webgpu here takes buffers of at most 0\.0 GB \(maxStorageBufferBindingBytes\)/,
          ),
          details: expect.objectContaining({ limit: 'maxStorageBufferBindingBytes', limitBytes: 64 }),
        }),
      );
      const model = (await load(2 ** 30)) as unknown as EditModel & { loadWarnings: { code: string; message: string }[] };
      expect(model.loadWarnings).toEqual([
        { code: 'device-memory-unknown', message: expect.stringMatching(/needs about .*; not checked \(WebGPU does not report device memory\)$/) },
      ]);
      await model.dispose();
    } finally {
      vi.unstubAllGlobals();
    }
  }, 60_000);
});
