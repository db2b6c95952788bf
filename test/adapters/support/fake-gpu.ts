import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as onnxruntimeNode from 'onnxruntime-node';
import * as onnxruntimeWeb from 'onnxruntime-web';
import { onTestFinished } from 'vitest';

/**
 * A stand-in `nvidia-smi`: a shell script printing `stdout` (or sleeping, or failing) and
 * recording the arguments it was called with, so the adapter's real `execFile` path is exercised.
 * Call it inside a test: its folder is removed when that test finishes.
 */
export function fakeNvidiaSmi(behaviour: { stdout?: string; exitCode?: number; hang?: boolean }): { command: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const command = join(dir, 'nvidia-smi');
  const log = join(dir, 'calls.log');
  const body = behaviour.hang ? 'exec sleep 60' : `printf '%s' '${behaviour.stdout ?? ''}'\nexit ${behaviour.exitCode ?? 0}`;
  writeFileSync(command, `#!/bin/sh\necho "$*" >> '${log}'\n${body}\n`);
  chmodSync(command, 0o755);
  return { command, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

/** onnxruntime-node whose `cuda` execution provider runs on the CPU: CUDA "works" on this machine. */
export function cudaOnCpuRuntime() {
  return async () => ({
    ...onnxruntimeNode,
    listSupportedBackends: () => [
      { name: 'cpu', bundled: true },
      { name: 'cuda', bundled: false },
    ],
    InferenceSession: {
      create: (model: never, options: { executionProviders?: unknown[] } = {}) =>
        onnxruntimeNode.InferenceSession.create(model, { ...options, executionProviders: (options.executionProviders ?? []).map(() => 'cpu') }),
    },
  });
}

/** onnxruntime-web whose `webgpu` runs on wasm and whose GPUDevice reports `limits`. */
export function webgpuOnWasmRuntime(limits: { maxBufferSize?: number; maxStorageBufferBindingSize?: number }) {
  const env = { wasm: onnxruntimeWeb.env.wasm, webgpu: { device: Promise.resolve({ limits, features: new Set<string>() }) } };
  return async () => ({
    ...onnxruntimeWeb,
    env,
    InferenceSession: {
      create: (model: never, options: { executionProviders?: unknown[] } = {}) =>
        onnxruntimeWeb.InferenceSession.create(model, { ...options, executionProviders: (options.executionProviders ?? []).map(() => 'wasm') }),
    },
  });
}
