import { describe, expect, it } from 'vitest';
import { wrapBackend, type DeviceTensor } from '../../src/index.node.js';
import { MockBackend } from '../../src/testing/index.js';
import { float32 } from '../../src/core/tensor.js';

describe('wrapBackend', () => {
  const mock = () =>
    new MockBackend({ graphs: { double: (feeds) => ({ y: { type: 'float32', dims: feeds.x.dims, data: (feeds.x.data as Float32Array).map((v) => 2 * v) } }) } });

  it('sees every session creation and run, and may change feeds and outputs', async () => {
    const inner = mock();
    const seen: string[] = [];
    const backend = wrapBackend(inner, {
      name: 'trace',
      async wrapCreateSession({ graph, createSession }) {
        seen.push(`create ${graph.name}`);
        return createSession();
      },
      async wrapRun({ graph, feeds, run }) {
        seen.push(`run ${graph} ${Object.keys(feeds).join(',')}`);
        // Change the input: the wrapped session runs what the middleware passes on.
        return run({ x: float32([1], new Float32Array([5])) });
      },
    });
    expect(backend.name).toBe('mock+trace');
    await backend.init({ device: 'cpu' });
    const session = await backend.createSession({ name: 'double', bytes: new Uint8Array(1) });
    const out: Record<string, DeviceTensor> = await session.run({ x: float32([1], new Float32Array([1])) });
    expect(Array.from((await out.y.download()).data as Float32Array)).toEqual([10]);
    out.y.dispose();
    expect(seen).toEqual(['create double', 'run double x']);
    expect(backend.liveSessions).toBe(1);
    await session.dispose();
    expect(backend.liveSessions).toBe(0);
    expect(inner.liveTensors).toBe(0);
  });

  it('a middleware that throws fails the call with its error', async () => {
    const backend = wrapBackend(mock(), {
      wrapRun: () => Promise.reject(new Error('injected')),
    });
    await backend.init({ device: 'cpu' });
    const session = await backend.createSession({ name: 'double', bytes: new Uint8Array(1) });
    await expect(session.run({ x: float32([1], new Float32Array([1])) })).rejects.toThrow('injected');
    await session.dispose();
  });
});
