import { describe, expect, it } from 'vitest';
import { MockBackend } from '../../src/testing/index.js';
import { InvalidModelError, UniPicError, type BackendUnavailableError } from '../../src/errors/index.js';
import type { HostTensor } from '../../src/spec/backend.js';

const scalar = (value: number): HostTensor => ({ type: 'float32', dims: [1], data: Float32Array.of(value) });
const firstValue = async (tensor: { download(): Promise<HostTensor> }) => (await tensor.download()).data[0];
const double = { inputs: ['x'], outputs: ['y'], run: (feeds: Record<string, HostTensor>) => ({ y: scalar((feeds.x.data[0] as number) * 2) }) };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return UniPicError.isInstance(error) ? error.code : `not a UniPicError: ${String(error)}`;
}

describe('MockBackend', () => {
  it('falls back past failing devices with the same warning as the real adapters', async () => {
    const warnings: Array<{ code: string; message: string }> = [];
    const backend = new MockBackend({ devices: ['cuda', 'webgpu', 'cpu'], failDevices: { cuda: 'no CUDA here' } });
    const info = await backend.init({ onWarning: (warning) => warnings.push(warning) });
    expect(info.device).toBe('webgpu');
    expect(info.availableDevices).toEqual(['webgpu', 'cpu']);
    expect(warnings).toEqual([expect.objectContaining({ code: 'device-fallback', attempts: [{ device: 'cuda', error: 'no CUDA here' }] })]);
    expect(backend.initCalls).toHaveLength(1);
  });

  it('fails init with every attempt when every device fails, and refuses devices it does not offer', async () => {
    const backend = new MockBackend({ devices: ['webgpu', 'wasm'], failDevices: { webgpu: 'no adapter', wasm: 'no wasm' } });
    const error = (await backend.init().catch((reason: unknown) => reason)) as BackendUnavailableError;
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.attempts).toEqual([
      { device: 'webgpu', error: 'no adapter' },
      { device: 'wasm', error: 'no wasm' },
    ]);
    expect(await codeOf(new MockBackend().init({ device: 'cuda' }))).toBe('UNSUPPORTED_DEVICE');
  });

  it('records sessions and calls, and injects the n-th run failure per graph or overall', async () => {
    const backend = new MockBackend({ graphs: { double, other: double }, failRuns: [{ graph: 'double', run: 2 }] });
    backend.failRun({ run: 4, error: new Error('custom') });
    await backend.init();
    const session = await backend.createSession({ name: 'double', path: '/models/double.onnx' }, { threads: 2 });
    const other = await backend.createSession({ name: 'other', bytes: new Uint8Array(1) });
    expect(await firstValue((await session.run({ x: scalar(1) })).y)).toBe(2);
    expect(await codeOf(session.run({ x: scalar(2) }))).toBe('RUNTIME'); // 2nd run of 'double'
    expect(await firstValue((await other.run({ x: scalar(3) })).y)).toBe(6); // 3rd run overall
    await expect(other.run({ x: scalar(4) })).rejects.toThrow('custom'); // 4th run overall
    expect(await firstValue((await session.run({ x: scalar(5) })).y)).toBe(10); // failures fire once
    expect(backend.sessionsCreated.map((record) => [record.id, record.graph.name, record.options.threads])).toEqual([
      [1, 'double', 2],
      [2, 'other', undefined],
    ]);
    expect(backend.calls.map((call) => [call.call, call.graph, call.session, call.feeds.x.data[0]])).toEqual([
      [1, 'double', 1, 1],
      [2, 'double', 1, 2],
      [3, 'other', 2, 3],
      [4, 'other', 2, 4],
      [5, 'double', 1, 5],
    ]);
    expect(backend.runsInFlight).toBe(0);
  });

  it('injects session failures and rejects unknown graphs as invalid models', async () => {
    const injected = new InvalidModelError('corrupt weights');
    const backend = new MockBackend({ graphs: { double }, failSessions: { double: injected } });
    await backend.init();
    await expect(backend.createSession({ name: 'double', bytes: new Uint8Array(1) })).rejects.toBe(injected);
    expect(await codeOf(backend.createSession({ name: 'missing', bytes: new Uint8Array(1) }))).toBe('INVALID_MODEL');
    expect(backend.liveSessions).toBe(0);
  });

  it('delays and pauses runs: one at a time per session, in parallel across sessions', async () => {
    const backend = new MockBackend({ graphs: { double }, runDelayMs: 10 });
    await backend.init();
    const [first, second] = await Promise.all([
      backend.createSession({ name: 'double', bytes: new Uint8Array(1) }),
      backend.createSession({ name: 'double', bytes: new Uint8Array(1) }),
    ]);
    await Promise.all([first.run({ x: scalar(1) }), first.run({ x: scalar(2) })]);
    expect(backend.maxRunsInFlight).toBe(1);
    await Promise.all([first.run({ x: scalar(1) }), second.run({ x: scalar(2) })]);
    expect(backend.maxRunsInFlight).toBe(2);

    backend.setRunDelay(0);
    const resume = backend.pause();
    let settled = false;
    const held = first.run({ x: scalar(7) }).then((outputs) => {
      settled = true;
      return outputs;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(backend.runsInFlight).toBe(1);
    const queued = first.run({ x: scalar(8) }).catch((reason: unknown) => reason);
    const disposing = first.dispose();
    resume();
    expect(await firstValue((await held).y)).toBe(14); // in flight: completes
    expect(UniPicError.isInstance(await queued) && ((await queued) as UniPicError).code).toBe('DISPOSED'); // queued: refused
    await disposing;
    expect(backend.liveSessions).toBe(1);
    await backend.dispose();
    expect(backend.liveSessions).toBe(0);
  });

  it('counts live tensors and device tensors until disposed', async () => {
    const backend = new MockBackend({ graphs: { pair: () => ({ a: scalar(1), b: scalar(2) }) } });
    await backend.init();
    const session = await backend.createSession({ name: 'pair', bytes: new Uint8Array(1) });
    // A bare function declares no names: any feeds, and every returned output.
    const outputs = await session.run({ anything: scalar(0) }, { keepOnDevice: ['a'] });
    expect(Object.keys(outputs).sort()).toEqual(['a', 'b']);
    expect([outputs.a.location, outputs.b.location]).toEqual(['device', 'cpu']);
    expect([backend.liveTensors, backend.liveDeviceTensors]).toEqual([2, 1]);
    outputs.a.dispose();
    outputs.a.dispose();
    expect([backend.liveTensors, backend.liveDeviceTensors]).toEqual([1, 0]);
    outputs.b.dispose();
    expect(backend.liveTensors).toBe(0);
    expect(await codeOf(outputs.a.download())).toBe('DISPOSED');
  });

  it('reports a graph function that forgets a declared output', async () => {
    const backend = new MockBackend({ graphs: { broken: { inputs: ['x'], outputs: ['y', 'z'], run: () => ({ y: scalar(1) }) } } });
    await backend.init();
    const session = await backend.createSession({ name: 'broken', bytes: new Uint8Array(1) });
    const error = await session.run({ x: scalar(1) }).catch((reason: unknown) => reason);
    expect(UniPicError.isInstance(error) && error.code).toBe('RUNTIME');
    expect((error as Error).message).toContain("no output 'z'");
    expect(backend.liveTensors).toBe(0);
  });
});
