import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Why CUDA cannot start, in words a user can act on. onnxruntime-node only says "Failed to load
 * shared library"; the two usual causes are the CUDA provider files never downloaded (installed
 * with ONNXRUNTIME_NODE_INSTALL=skip, or NuGet unreachable) and CUDA 12 / cuDNN 9 libraries
 * missing from the library path.
 */
const PROVIDER_FILE: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/** The folder holding onnxruntime-node's native binding for this platform, if it can be found. */
export function bindingFolder(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(dirname(entry)), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    // Resolution fails under unusual layouts (bundled apps); the diagnosis is only a hint.
    return undefined;
  }
}

/** A reason CUDA cannot work without trying it: its provider library is not installed. */
export function missingCudaProvider(): string | undefined {
  const file = PROVIDER_FILE[process.platform];
  const folder = bindingFolder();
  if (!file || !folder || !existsSync(folder)) return undefined;
  const path = join(folder, file);
  if (existsSync(path)) return undefined;
  return (
    `the CUDA execution provider is not installed (${path} is missing; onnxruntime-node was installed with ` +
    'ONNXRUNTIME_NODE_INSTALL=skip or could not reach NuGet). Add it with `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`'
  );
}

/** ORT's message for a failed CUDA start, plus where to look when the provider is installed. */
export function explainCudaFailure(message: string): string {
  const file = PROVIDER_FILE[process.platform];
  const folder = bindingFolder();
  if (!file || !folder || !/load|shared library|cannot open/i.test(message)) return message;
  return (
    `${message} — the CUDA provider needs CUDA 12 and cuDNN 9 libraries on the library path; ` +
    `\`ldd ${join(folder, file)} | grep "not found"\` lists the missing ones`
  );
}
