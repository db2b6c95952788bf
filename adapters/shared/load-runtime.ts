import { BackendNotInstalledError } from '../../src/errors/index.js';
import { describeError } from './ort-error-mapping.js';
import type { OrtRuntime } from './ort-runtime.js';

export type RuntimeImporter = () => Promise<unknown>;

/**
 * Imports an ORT package on first use, so merely importing the SDK never loads it. A missing
 * package and one that fails to load (wrong platform, broken install) both become
 * `BackendNotInstalledError` with `installHint` in the message.
 */
export async function loadRuntime(packageName: string, importer: RuntimeImporter, installHint: string): Promise<OrtRuntime> {
  let imported: unknown;
  try {
    imported = await importer();
  } catch (error) {
    const missing = isModuleNotFound(error);
    const what = missing ? `${packageName} is not installed` : `${packageName} is installed but failed to load (${describeError(error)})`;
    throw new BackendNotInstalledError(`${what}. ${installHint}`, { cause: error, details: { package: packageName, missing } });
  }
  // CommonJS builds may arrive with their exports under `default` only.
  const module = imported as (Partial<OrtRuntime> & { default?: Partial<OrtRuntime> }) | undefined;
  const runtime = module?.InferenceSession ? module : module?.default;
  if (!runtime?.InferenceSession || !runtime.Tensor) {
    throw new BackendNotInstalledError(`the module loaded for ${packageName} has no InferenceSession / Tensor. ${installHint}`, {
      details: { package: packageName, missing: false },
    });
  }
  return runtime as OrtRuntime;
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (?:package|module)|Failed to resolve module/.test(describeError(error));
}
