import { describe, expect, it } from 'vitest';
import { checkUnipic3Device, estimateUnipic3Memory } from '../../../src/families/unipic3/device-memory.js';
import type { Unipic3Manifest } from '../../../src/families/unipic3/manifest.js';
import type { BackendInfo } from '../../../src/spec/backend.js';

/** The published transformer's numbers (20.43 B parameters, width 3072, from its config.json). */
const published = { config: { transformer: { parameters: 20.43e9, width: 3072 } } } as unknown as Unipic3Manifest;
const gpu = (gb: number): BackendInfo => ({ name: 'test', device: 'cuda', availableDevices: ['cuda'], fp16: true, limits: { deviceMemoryBytes: gb * 1e9 } });

describe('UniPic-3 device memory estimate and refusal', () => {
  it('q4: ≈ 13.1 GB of weights + ≈ 2.7 GB activations of a 1024² edit with one reference', () => {
    const q4 = estimateUnipic3Memory(published, 'q4');
    expect(q4.weightsBytes / 1e9).toBeCloseTo(13.1, 1);
    expect(q4.activationsBytes / 1e9).toBeCloseTo(2.72, 1);
    expect(estimateUnipic3Memory(published, 'fp16').weightsBytes / 1e9).toBeCloseTo(40.86, 1);
  });

  it('a 24 GB GPU holds q4, a 12 GB one is refused with the numbers; fp16 needs more than 24 GB', () => {
    expect(() => checkUnipic3Device(published, { transformer_in: 'q4' }, gpu(24))).not.toThrow();
    expect(() => checkUnipic3Device(published, { transformer_in: 'q4' }, gpu(12))).toThrow(
      expect.objectContaining({ code: 'RESOURCE_LIMIT', message: expect.stringContaining('needs about 15.8 GB') }),
    );
    expect(() => checkUnipic3Device(published, { transformer_in: 'fp16' }, gpu(24))).toThrow(/load with dtype 'q4'/);
  });

  it('no check when the adapter does not report the device memory', () => {
    expect(() => checkUnipic3Device(published, { transformer_in: 'fp32' }, { ...gpu(1), limits: {} })).not.toThrow();
  });
});
