import { describe, expect, it } from 'vitest';
import * as onnxruntimeWeb from 'onnxruntime-web';
import { WebOrtBackend, type DeviceFallbackWarning } from '../../adapters/web-ort/index.js';
import { UniPicError, type BackendUnavailableError, type InvalidOptionsError } from '../../src/errors/index.js';
import { writeContractFixture } from './support/contract-fixture.js';

async function rejection(promise: Promise<unknown>): Promise<UniPicError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!UniPicError.isInstance(error)) throw new Error(`expected a UniPicError, got ${String(error)}`);
  return error;
}

describe('web-ort device resolution (Node: wasm only)', () => {
  it('auto: WebGPU is missing in Node, so it warns and runs on wasm with one thread', async () => {
    const warnings: DeviceFallbackWarning[] = [];
    const backend = new WebOrtBackend();
    const info = await backend.init({ onWarning: (warning) => warnings.push(warning as DeviceFallbackWarning) });
    expect(info.device).toBe('wasm');
    expect(info.availableDevices).toEqual(['wasm']);
    expect(info.fp16).toBe(false);
    expect(info.limits.maxFileBytes).toBe(2 ** 31 - 1);
    expect(info.limits.maxGraphBytes).toBe(2 ** 32);
    expect(info.limits.maxResidentBytes).toBe(2 ** 32);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].attempts).toEqual([{ device: 'webgpu', error: expect.stringContaining('navigator.gpu') }]);
    // The Node default keeps wasm single-threaded (no worker threads holding the process).
    expect(onnxruntimeWeb.env.wasm.numThreads).toBe(1);
    await backend.dispose();
  });

  it('an explicit webgpu fails with that one attempt; cpu is not a web-ort device', async () => {
    const backend = new WebOrtBackend();
    const unavailable = (await rejection(backend.init({ device: 'webgpu' }))) as BackendUnavailableError;
    expect(unavailable.code).toBe('BACKEND_UNAVAILABLE');
    expect(unavailable.attempts.map((attempt) => attempt.device)).toEqual(['webgpu']);
    expect((await rejection(backend.init({ device: 'cpu' }))).code).toBe('UNSUPPORTED_DEVICE');
    expect((await rejection(backend.init({ device: 'cuda' }))).code).toBe('UNSUPPORTED_DEVICE');
  });

  it('validates init extra', async () => {
    const backend = new WebOrtBackend();
    const error = (await rejection(backend.init({ extra: { wasmPaths: 42, numThreads: -1, autoOrder: [] } }))) as InvalidOptionsError;
    expect(error.code).toBe('INVALID_OPTIONS');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['extra.autoOrder', 'extra.numThreads', 'extra.wasmPaths']);
  });

  it('reports a missing onnxruntime-web with the install command', async () => {
    const missing = Object.assign(new Error("Cannot find package 'onnxruntime-web'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const backend = new WebOrtBackend({ importRuntime: () => Promise.reject(missing) });
    const error = await rejection(backend.init());
    expect(error.code).toBe('BACKEND_NOT_INSTALLED');
    expect(error.message).toContain('npm install onnxruntime-web');
  });

  it('warns once that per-session threads are ignored, and validates session extra', async () => {
    const warnings: Array<{ code: string }> = [];
    const backend = new WebOrtBackend();
    await backend.init({ device: 'wasm', onWarning: (warning) => warnings.push(warning) });
    const fixture = writeContractFixture();
    try {
      const source = { name: 'contract', bytes: fixture.graphBytes, externalData: [{ path: fixture.dataFileName, data: fixture.dataBytes }] };
      const first = await backend.createSession(source, { threads: 4 });
      const second = await backend.createSession(source, { threads: 4 });
      expect(warnings.map((warning) => warning.code)).toEqual(['option-ignored']);
      const bad = (await rejection(backend.createSession(source, { extra: { intraOpNumThreads: 2 } }))) as InvalidOptionsError;
      expect(bad.code).toBe('INVALID_OPTIONS');
      await first.dispose();
      await second.dispose();
    } finally {
      await backend.dispose();
      fixture.remove();
    }
  });
});
