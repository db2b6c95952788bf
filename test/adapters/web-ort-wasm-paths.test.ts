import { describe, expect, it } from 'vitest';
import { WebOrtBackend } from '../../adapters/web-ort/index.js';
import { UniPicError, type BackendUnavailableError } from '../../src/errors/index.js';

// Its own file: ORT reads `env.wasm` once per process, at the first session.
describe('web-ort wasmPaths', () => {
  it('makes ORT load its runtime files from the given folder', async () => {
    const backend = new WebOrtBackend();
    const error = await backend.init({ device: 'wasm', extra: { wasmPaths: '/nonexistent-unipic-wasm/' } }).catch((reason: unknown) => reason);
    expect(UniPicError.isInstance(error)).toBe(true);
    const attempts = (error as BackendUnavailableError).attempts;
    expect(attempts).toHaveLength(1);
    // The failure names the folder we set: the option reached ORT.
    expect(attempts[0].error).toContain('/nonexistent-unipic-wasm/ort-wasm-simd-threaded');
  });
});
