import { describe, expect, it } from 'vitest';
import { SessionPool } from '../../../src/core/model/session-pool.js';
import type { ResolvedFiles } from '../../../src/core/sources/resolved-file.js';
import type { Manifest } from '../../../src/spec/manifest.js';
import { MockBackend } from '../../../src/testing/index.js';

const manifest = { graphs: { encoder: { fp32: { file: 'encoder.onnx', externalData: [] } } } } as unknown as Manifest;
const files = { get: (path: string) => ({ kind: 'bytes', bytes: new Uint8Array(1), entry: { path } }) } as unknown as ResolvedFiles;

async function pool() {
  const backend = new MockBackend({ graphs: { encoder: () => ({}) } });
  await backend.init({ device: 'cpu' });
  const released: string[] = [];
  let resolveFiles: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const sessions = new SessionPool(
    backend,
    manifest,
    { encoder: 'fp32' },
    async () => {
      await gate;
      return files;
    },
    { onRelease: (name) => released.push(name) },
  );
  const holdCreation = () => {
    gate = new Promise((resolve) => (resolveFiles = resolve));
    return () => resolveFiles?.();
  };
  return { backend, sessions, released, holdCreation };
}

describe('SessionPool.release', () => {
  it('frees a created session; the next get creates a new one', async () => {
    const { backend, sessions, released } = await pool();
    const first = await sessions.get('encoder');
    expect(backend.liveSessions).toBe(1);
    await sessions.release('encoder');
    expect(backend.liveSessions).toBe(0);
    expect(released).toEqual(['encoder']);
    expect(sessions.created).toEqual([]);
    const second = await sessions.get('encoder');
    expect(second).not.toBe(first);
    expect(backend.sessionsCreated).toHaveLength(2);
    await sessions.dispose();
    expect(backend.liveSessions).toBe(0);
  });

  it('does nothing for a graph never created', async () => {
    const { backend, sessions, released } = await pool();
    await sessions.release('encoder');
    expect(released).toEqual([]);
    expect(backend.sessionsCreated).toHaveLength(0);
  });

  it('waits for a creation in progress and frees that session', async () => {
    const { backend, sessions, released, holdCreation } = await pool();
    const go = holdCreation();
    const creating = sessions.get('encoder');
    const releasing = sessions.release('encoder');
    go();
    await creating;
    await releasing;
    expect(released).toEqual(['encoder']);
    expect(backend.sessionsCreated).toHaveLength(1);
    expect(backend.liveSessions).toBe(0);
  });
});
