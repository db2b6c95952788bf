import { describe, expect, it } from 'vitest';
import { checkUnipic3Device, estimateUnipic3Memory, largestUnipic3Weight } from '../../../src/families/unipic3/device-memory.js';
import type { Unipic3Manifest } from '../../../src/families/unipic3/manifest.js';
import type { BackendInfo } from '../../../src/spec/backend.js';

/** The published numbers: transformer 20.43 B parameters, width 3072; Qwen2.5-VL-7B's LLM (their config.json files). */
const published = {
  config: {
    transformer: { parameters: 20.43e9, width: 3072 },
    textEncoder: { llm: { vocabSize: 152064, hiddenSize: 3584, intermediateSize: 18944 } },
  },
} as unknown as Unipic3Manifest;
const info = (device: BackendInfo['device'], limits: BackendInfo['limits']): BackendInfo => ({
  name: 'test',
  device,
  availableDevices: [device],
  fp16: true,
  limits,
});
const gpu = (gb: number, freeGb?: number) => info('cuda', { deviceMemoryBytes: gb * 1e9, ...(freeGb !== undefined ? { deviceFreeMemoryBytes: freeGb * 1e9 } : {}) });
const q4 = { transformer_in: 'q4', transformer_blocks_0_9: 'q4', embed: 'q4', llm: 'q4', vision: 'fp32' };

describe('UniPic-3 device memory estimate and refusal', () => {
  it('q4: ≈ 13.1 GB of weights + ≈ 2.7 GB activations of a 1024² edit with one reference', () => {
    const estimate = estimateUnipic3Memory(published, 'q4');
    expect(estimate.weightsBytes / 1e9).toBeCloseTo(13.1, 1);
    expect(estimate.activationsBytes / 1e9).toBeCloseTo(2.72, 1);
    expect(estimateUnipic3Memory(published, 'fp16').weightsBytes / 1e9).toBeCloseTo(40.86, 1);
  });

  it('a 24 GB GPU holds q4, a 12 GB one is refused with the numbers; fp16 needs more than 24 GB', () => {
    expect(checkUnipic3Device(published, q4, gpu(24, 23))).toEqual([]);
    let error: unknown;
    try {
      checkUnipic3Device(published, q4, gpu(12));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      code: 'RESOURCE_LIMIT',
      message: expect.stringContaining('needs about 15.8 GB'),
      details: { limit: 'deviceMemoryBytes', limitBytes: 12e9, neededBytes: expect.closeTo(15.8e9, -8), dtype: 'q4', device: 'cuda' },
    });
    expect((error as Error).message).toMatch(/cuda here has 12\.0 GB: use a GPU with more memory/);
    expect(() => checkUnipic3Device(published, { transformer_in: 'fp16' }, gpu(24))).toThrow(/load with dtype 'q4'/);
  });

  it('a GPU large enough but mostly taken by other processes is refused on its free memory', () => {
    expect(() => checkUnipic3Device(published, q4, gpu(24, 6))).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/has 6\.0 GB free of 24\.0 GB \(other processes hold the rest\): free the GPU, pick another one \(extra\.deviceId\)/),
        details: expect.objectContaining({ limit: 'deviceFreeMemoryBytes', limitBytes: 6e9 }),
      }),
    );
  });

  it('wasm: the 4 GiB address space cannot hold it', () => {
    expect(() => checkUnipic3Device(published, q4, info('wasm', { deviceMemoryBytes: 2 ** 32, maxGraphBytes: 2 ** 32 }))).toThrow(/wasm here has 4\.3 GB/);
  });

  it('WebGPU: no memory API, so one warning line; the largest weight (the q4 embedding table) is checked against the buffer limits', () => {
    expect(largestUnipic3Weight(published, q4)).toEqual({ graph: 'embed', bytes: (152064 * 3584) / 2 });
    expect(largestUnipic3Weight(published, { ...q4, embed: 'fp32' })?.bytes).toBe(152064 * 3584 * 4);
    const webgpu = (binding: number) =>
      info('webgpu', { maxBufferBytes: 2 ** 32, maxStorageBufferBindingBytes: binding, deviceMemoryUnknown: 'WebGPU does not report device memory' });
    const warnings = checkUnipic3Device(published, q4, webgpu(2 ** 31 - 4));
    expect(warnings).toEqual([
      {
        code: 'device-memory-unknown',
        message: expect.stringMatching(/^UniPic-3 at q4 needs about 15\.8 GB .*; not checked \(WebGPU does not report device memory\)$/),
      },
    ]);
    expect(() => checkUnipic3Device(published, q4, webgpu(128 * 1024 ** 2))).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /largest weight \(graph embed at q4\) is 0\.3 GB, but webgpu here takes buffers of at most 0\.1 GB \(maxStorageBufferBindingBytes\)/,
        ),
        details: expect.objectContaining({ limit: 'maxStorageBufferBindingBytes', graph: 'embed', neededBytes: (152064 * 3584) / 2 }),
      }),
    );
  });

  it('no check when the adapter does not report the device memory: a GPU gets one warning with the reason, the CPU none', () => {
    expect(checkUnipic3Device(published, { transformer_in: 'fp32' }, info('cuda', { deviceMemoryUnknown: 'nvidia-smi not found' }))).toEqual([
      { code: 'device-memory-unknown', message: expect.stringContaining('not checked (nvidia-smi not found)') },
    ]);
    expect(checkUnipic3Device(published, { transformer_in: 'fp32' }, info('cpu', {}))).toEqual([]);
  });
});
