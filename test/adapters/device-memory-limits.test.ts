import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { parseNvidiaSmiMemory, queryCudaMemory } from '../../adapters/node-ort/cuda-memory.js';
import { WebOrtBackend } from '../../adapters/web-ort/index.js';
import { cudaOnCpuRuntime, fakeNvidiaSmi, webgpuOnWasmRuntime } from './support/fake-gpu.js';

const MIB = 1024 * 1024;

describe('node-ort: CUDA memory from nvidia-smi', () => {
  it('parses "total, free" in MiB and refuses output it cannot trust', () => {
    expect(parseNvidiaSmiMemory('24564, 23012\n')).toEqual({ memory: { totalBytes: 24564 * MIB, freeBytes: 23012 * MIB } });
    expect(parseNvidiaSmiMemory('[N/A], [N/A]\n')).toEqual({ unknown: expect.stringContaining('[N/A]') });
    expect(parseNvidiaSmiMemory('100, 200')).toEqual({ unknown: expect.stringContaining('cannot be right') });
    expect(parseNvidiaSmiMemory('')).toEqual({ unknown: expect.stringContaining('not "total, free"') });
  });

  it('asks about the chosen device only, and reports unknown (never throws) when the tool is missing, fails or hangs', async () => {
    const smi = fakeNvidiaSmi({ stdout: '81559, 80000\n' });
    expect(await queryCudaMemory(3, { command: smi.command })).toEqual({ memory: { totalBytes: 81559 * MIB, freeBytes: 80000 * MIB } });
    expect(smi.calls()).toEqual(['--query-gpu=memory.total,memory.free --format=csv,noheader,nounits -i 3']);
    expect(await queryCudaMemory(0, { command: '/nonexistent/nvidia-smi' })).toEqual({ unknown: 'nvidia-smi not found' });
    const failing = fakeNvidiaSmi({ stdout: 'No devices were found', exitCode: 6 });
    expect(await queryCudaMemory(0, { command: failing.command })).toEqual({ unknown: expect.stringMatching(/^nvidia-smi failed/) });
    const hanging = fakeNvidiaSmi({ hang: true });
    expect(await queryCudaMemory(0, { command: hanging.command, timeoutMs: 200 })).toEqual({ unknown: 'nvidia-smi timed out' });
  });

  it('init on cuda fills deviceMemoryBytes and deviceFreeMemoryBytes for extra.deviceId', async () => {
    const smi = fakeNvidiaSmi({ stdout: '12288, 11000\n' });
    const backend = new NodeOrtBackend({ importRuntime: cudaOnCpuRuntime(), cudaMemory: { command: smi.command } });
    const info = await backend.init({ device: 'cuda', extra: { deviceId: 1 } });
    expect(info.device).toBe('cuda');
    expect(info.limits).toEqual({ deviceMemoryBytes: 12288 * MIB, deviceFreeMemoryBytes: 11000 * MIB });
    expect(smi.calls()).toEqual(['--query-gpu=memory.total,memory.free --format=csv,noheader,nounits -i 1']);
    await backend.dispose();
  });

  it('without nvidia-smi the memory stays unknown, with the reason, and no warning from the adapter', async () => {
    const warnings: unknown[] = [];
    const backend = new NodeOrtBackend({ importRuntime: cudaOnCpuRuntime(), cudaMemory: { command: '/nonexistent/nvidia-smi' } });
    const info = await backend.init({ device: 'cuda', onWarning: (warning) => warnings.push(warning) });
    expect(info.limits).toEqual({ deviceMemoryUnknown: 'nvidia-smi not found' });
    expect(warnings).toEqual([]);
    await backend.dispose();
  });

  it('cpu reports no device memory and never runs nvidia-smi', async () => {
    const smi = fakeNvidiaSmi({ stdout: '1, 1\n' });
    const backend = new NodeOrtBackend({ importRuntime: cudaOnCpuRuntime(), cudaMemory: { command: smi.command } });
    const info = await backend.init({ device: 'cpu' });
    expect(info.limits).toEqual({});
    expect(() => smi.calls()).toThrow(/ENOENT/);
    await backend.dispose();
  });
});

describe('web-ort: wasm address space and WebGPU buffer limits', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('wasm reports its 4 GiB address space as the device memory', async () => {
    const backend = new WebOrtBackend();
    const info = await backend.init({ device: 'wasm' });
    expect(info.limits.deviceMemoryBytes).toBe(2 ** 32);
    // Its attention kernel's 32-bit operation counter (test/adapters/web-ort-attention-limit.test.ts).
    expect(info.limits.maxAttentionHeadOps).toBe(2 ** 31 - 1);
    await backend.dispose();
  });

  it('WebGPU reports maxBufferSize and maxStorageBufferBindingSize, and says memory is unknown', async () => {
    vi.stubGlobal('navigator', { gpu: {} });
    const backend = new WebOrtBackend({ importRuntime: webgpuOnWasmRuntime({ maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31 - 4 }) });
    const info = await backend.init({ device: 'webgpu' });
    expect(info.device).toBe('webgpu');
    expect(info.limits).toEqual({
      maxFileBytes: 2 ** 31 - 1,
      maxBufferBytes: 2 ** 32,
      maxStorageBufferBindingBytes: 2 ** 31 - 4,
      deviceMemoryUnknown: 'WebGPU does not report device memory',
    });
    await backend.dispose();
  });
});
