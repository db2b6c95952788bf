import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as onnxruntimeNode from 'onnxruntime-node';
import { NodeOrtBackend, type DeviceFallbackWarning } from '../../adapters/node-ort/index.js';
import { UniPicError, type BackendUnavailableError, type InvalidOptionsError } from '../../src/errors/index.js';
import { writeContractFixture } from './support/contract-fixture.js';

// The CUDA provider is a separate download (onnxruntime-node's install script); without it the
// cuda EP cannot load, which is the state of machines installed with ONNXRUNTIME_NODE_INSTALL=skip.
const packageFolder = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
const cudaProvider = join(packageFolder, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
const cudaInstalled = existsSync(cudaProvider);

async function rejection(promise: Promise<unknown>): Promise<UniPicError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!UniPicError.isInstance(error)) throw new Error(`expected a UniPicError, got ${String(error)}`);
  return error;
}

/** onnxruntime-node with session creation failing on every execution provider. */
function runtimeFailingEverywhere() {
  return async () => ({
    Tensor: onnxruntimeNode.Tensor,
    listSupportedBackends: onnxruntimeNode.listSupportedBackends,
    InferenceSession: {
      create: async (_model: unknown, options: { executionProviders?: unknown[] } = {}) => {
        throw new Error(`injected failure for ${JSON.stringify(options.executionProviders)}`);
      },
    },
  });
}

describe('node-ort device resolution', () => {
  it.skipIf(cudaInstalled)('auto: CUDA fails here, so it warns, records the attempt and runs on the CPU', async () => {
    const warnings: DeviceFallbackWarning[] = [];
    const backend = new NodeOrtBackend();
    const info = await backend.init({
      device: 'auto',
      extra: { autoOrder: ['cuda', 'cpu'] },
      onWarning: (warning) => warnings.push(warning as DeviceFallbackWarning),
    });
    expect(info.device).toBe('cpu');
    expect(info.availableDevices).toEqual(['cpu']);
    expect(info.fp16).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('device-fallback');
    expect(warnings[0].device).toBe('cpu');
    expect(warnings[0].attempts.map((attempt) => attempt.device)).toEqual(['cuda']);
    // The probe is skipped: the missing provider file is named, with the command that installs it.
    expect(warnings[0].attempts[0].error).toContain('CUDA execution provider is not installed');
    expect(warnings[0].attempts[0].error).toContain('--onnxruntime-node-install=cuda12');
    expect(warnings[0].message).toContain('cuda');
    await backend.dispose();
  });

  it('auto with the default order: every device before the chosen one is in the warning', async () => {
    const warnings: DeviceFallbackWarning[] = [];
    const backend = new NodeOrtBackend();
    const info = await backend.init({ onWarning: (warning) => warnings.push(warning as DeviceFallbackWarning) });
    const order = ['cuda', 'webgpu', 'cpu'];
    const skipped = order.slice(0, order.indexOf(info.device));
    expect(warnings.flatMap((warning) => warning.attempts.map((attempt) => attempt.device))).toEqual(skipped);
    if (!cudaInstalled) expect(skipped).toContain('cuda');
    await backend.dispose();
  });

  it('throws BackendUnavailableError listing every attempt when no device works', async () => {
    const warnings: unknown[] = [];
    const backend = new NodeOrtBackend({ importRuntime: runtimeFailingEverywhere() });
    const error = (await rejection(backend.init({ onWarning: (warning) => warnings.push(warning) }))) as BackendUnavailableError;
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.attempts.map((attempt) => attempt.device)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(error.attempts[2].error).toContain('injected failure for ["cpu"]');
    expect(error.message).toContain('cuda → webgpu → cpu');
    // Nothing fell back, so nothing was warned; the error carries the whole story.
    expect(warnings).toEqual([]);
    // It survives a worker boundary with its attempts.
    const copy = UniPicError.fromJSON(JSON.parse(JSON.stringify(error.toJSON()))) as BackendUnavailableError;
    expect(copy.attempts).toEqual(error.attempts);
  });

  it('an explicit device that fails reports that one attempt, and init can then be retried', async () => {
    const backend = new NodeOrtBackend({ importRuntime: runtimeFailingEverywhere() });
    const error = (await rejection(backend.init({ device: 'webgpu' }))) as BackendUnavailableError;
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.attempts).toHaveLength(1);
    expect(error.attempts[0].device).toBe('webgpu');

    const real = new NodeOrtBackend();
    if (!cudaInstalled) expect((await rejection(real.init({ device: 'cuda' }))).code).toBe('BACKEND_UNAVAILABLE');
    expect((await real.init({ device: 'cpu' })).device).toBe('cpu');
    await real.dispose();
  });

  it('refuses devices it never offers with UnsupportedDeviceError', async () => {
    const backend = new NodeOrtBackend();
    const error = await rejection(backend.init({ device: 'wasm' }));
    expect(error.code).toBe('UNSUPPORTED_DEVICE');
    expect(error.message).toContain('wasm');
  });

  it('reports a missing onnxruntime-node with the install command', async () => {
    const missing = Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const backend = new NodeOrtBackend({ importRuntime: () => Promise.reject(missing) });
    const error = await rejection(backend.init());
    expect(error.code).toBe('BACKEND_NOT_INSTALLED');
    expect(error.message).toContain('onnxruntime-node is not installed');
    expect(error.message).toContain('npm install onnxruntime-node');
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    expect(error.cause).toBe(missing);

    const broken = new NodeOrtBackend({ importRuntime: () => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file')) });
    const brokenError = await rejection(broken.init());
    expect(brokenError.code).toBe('BACKEND_NOT_INSTALLED');
    expect(brokenError.message).toContain('failed to load');
  });

  it('validates init and session extra with zod, naming every bad path', async () => {
    const backend = new NodeOrtBackend();
    const error = (await rejection(backend.init({ extra: { autoOrder: ['wasm'], deviceId: -1, unknownKnob: true } }))) as InvalidOptionsError;
    expect(error.code).toBe('INVALID_OPTIONS');
    const paths = error.issues.map((issue) => issue.path);
    expect(paths).toContain('extra.autoOrder.0');
    expect(paths).toContain('extra.deviceId');
    expect(paths).toContain('extra');

    await backend.init({ device: 'cpu' });
    const fixture = writeContractFixture();
    try {
      const source = { name: 'contract', path: fixture.graphPath };
      const bad = (await rejection(backend.createSession(source, { extra: { graphOptimizationLevel: 'max' } }))) as InvalidOptionsError;
      expect(bad.issues.map((issue) => issue.path)).toEqual(['extra.graphOptimizationLevel']);
      expect((await rejection(backend.createSession(source, { threads: 0 }))).code).toBe('INVALID_OPTIONS');
      // Config entries reach ORT: with CPU fallback disabled, a CPU session cannot be built.
      const refused = await rejection(backend.createSession(source, { extra: { configEntries: { 'session.disable_cpu_ep_fallback': '1' } } }));
      expect(refused.code).toBe('RUNTIME');
      expect(refused.message).toMatch(/fallback to CPU EP has been explicitly disabled/);
      const session = await backend.createSession(source, { threads: 1, extra: { graphOptimizationLevel: 'basic', enableMemPattern: false } });
      expect(session.outputNames).toContain('sum');
      await session.dispose();
      expect(backend.liveSessions).toBe(0);
    } finally {
      await backend.dispose();
      fixture.remove();
    }
  });

  it('maps a missing graph file to ModelNotFoundError', async () => {
    const backend = new NodeOrtBackend();
    await backend.init({ device: 'cpu' });
    const error = await rejection(backend.createSession({ name: 'ghost', path: '/nonexistent/ghost.onnx' }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain("graph 'ghost'");
    await backend.dispose();
  });
});
