import { describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { UniPicError } from '../../src/errors/index.js';
import type { HostTensor } from '../../src/spec/backend.js';
import { createFakeOrt } from './support/fake-ort-runtime.js';

const source = { name: 'fake', bytes: new Uint8Array([1]) };
const x = (...values: number[]): HostTensor => ({ type: 'float32', dims: [values.length], data: Float32Array.from(values) });

async function backendOn(device: 'cpu' | 'webgpu', runDelayMs = 5) {
  const fake = createFakeOrt(runDelayMs);
  const backend = new NodeOrtBackend({ importRuntime: async () => fake.runtime });
  const info = await backend.init({ device });
  fake.log.runs.length = 0;
  fake.log.mostRunning = 0;
  fake.log.events.length = 0;
  return { backend, log: fake.log, info };
}

describe('the shared ORT session layer (against an instrumented fake runtime)', () => {
  it('never overlaps runs of one session', async () => {
    const { backend, log } = await backendOn('cpu');
    const session = await backend.createSession(source);
    const results = await Promise.all([1, 2, 3].map((value) => session.run({ x: x(value) })));
    expect(log.mostRunning).toBe(1);
    expect(await Promise.all(results.map(async (outputs) => Array.from((await outputs.y.download()).data as Float32Array)))).toEqual([[2], [4], [6]]);
    await backend.dispose();
  });

  it('on CPU, two sessions may run at once; on WebGPU every session of the backend shares one queue', async () => {
    const cpu = await backendOn('cpu', 20);
    const [first, second] = await Promise.all([cpu.backend.createSession(source), cpu.backend.createSession(source)]);
    await Promise.all([first.run({ x: x(1) }), second.run({ x: x(1) })]);
    expect(cpu.log.mostRunning).toBe(2);
    await cpu.backend.dispose();

    const gpu = await backendOn('webgpu', 20);
    const [third, fourth] = await Promise.all([gpu.backend.createSession(source), gpu.backend.createSession(source)]);
    await Promise.all([third.run({ x: x(1) }), fourth.run({ x: x(1) }), third.run({ x: x(2) })]);
    expect(gpu.log.mostRunning).toBe(1);
    await gpu.backend.dispose();
  });

  it('WebGPU: fetches every output (IO binding), releases the unrequested ones and brings the rest home', async () => {
    const { backend, log, info } = await backendOn('webgpu');
    expect(info.fp16).toBe(true); // the fake doubles x, which is what the float16 probe checks
    const session = await backend.createSession(source);
    const outputs = await session.run({ x: x(1.5, 2) }, { outputs: ['y'] });
    expect(log.runs[0].fetches).toEqual(['y', 'z']);
    expect(Object.keys(outputs)).toEqual(['y']);
    expect(outputs.y.location).toBe('cpu');
    expect(Array.from((await outputs.y.download()).data as Float32Array)).toEqual([3, 4]);
    // Both device buffers were released: z unrequested, y after its download.
    expect(log.disposedTensors.map((tensor) => tensor.location)).toEqual(['gpu-buffer', 'gpu-buffer']);
    await backend.dispose();
  });

  it('WebGPU: keepOnDevice leaves the buffer alive, feeds it back without a copy, downloads it, disposes it', async () => {
    const { backend, log } = await backendOn('webgpu');
    const session = await backend.createSession(source);
    const outputs = await session.run({ x: x(1, 2) }, { keepOnDevice: ['y'] });
    expect(outputs.y.location).toBe('device');
    expect(outputs.z.location).toBe('cpu');
    const kept = log.disposedTensors.length;
    const again = await session.run({ x: outputs.y }, { outputs: ['z'] });
    // z = y + 1 computed from the device tensor itself.
    expect(Array.from((await again.z.download()).data as Float32Array)).toEqual([3, 5]);
    expect(Array.from((await outputs.y.download()).data as Float32Array)).toEqual([2, 4]);
    expect(log.disposedTensors.length).toBe(kept + 2); // only the second run's y and z
    outputs.y.dispose();
    expect(log.disposedTensors.at(-1)?.location).toBe('gpu-buffer');
    await backend.dispose();
  });

  it('a failed download releases every device buffer of that run and throws a typed error', async () => {
    const { backend, log } = await backendOn('webgpu');
    const session = await backend.createSession(source);
    log.failDownloads = true;
    const error = await session.run({ x: x(1) }).catch((reason: unknown) => reason);
    expect(UniPicError.isInstance(error) && error.code).toBe('OUT_OF_MEMORY');
    expect(log.disposedTensors.filter((tensor) => tensor.location === 'gpu-buffer')).toHaveLength(2);
    await backend.dispose();
  });

  it('maps run failures to typed errors naming the graph', async () => {
    const { backend, log } = await backendOn('cpu');
    const session = await backend.createSession(source);
    log.failNextRun = 'Non-zero status code returned while running MatMul node';
    const error = await session.run({ x: x(1) }).catch((reason: unknown) => reason);
    expect(UniPicError.isInstance(error) && error.code).toBe('RUNTIME');
    expect((error as Error).message).toContain("graph 'fake'");
    // The session still works afterwards.
    expect(Object.keys(await session.run({ x: x(1) }))).toEqual(['y', 'z']);
    await backend.dispose();
  });

  it('dispose waits for the run in flight, refuses the queued one, then releases once', async () => {
    const { backend, log } = await backendOn('cpu', 20);
    const session = await backend.createSession(source);
    const inFlight = session.run({ x: x(1) });
    await new Promise((resolve) => setTimeout(resolve, 5)); // let it start
    const queued = session.run({ x: x(2) }).catch((reason: unknown) => reason);
    await Promise.all([session.dispose(), session.dispose()]);
    await expect(inFlight).resolves.toHaveProperty('y');
    expect(UniPicError.isInstance(await queued) && ((await queued) as UniPicError).code).toBe('DISPOSED');
    expect(log.events).toEqual(['run-start', 'run-end', 'release']);
    expect(backend.liveSessions).toBe(0);
    await backend.dispose();
  });
});
