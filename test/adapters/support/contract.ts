import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendInitOptions, DeviceTensor, Device, GraphSource } from '../../../src/spec/backend.js';
import { UniPicError } from '../../../src/errors/index.js';
import {
  CONTRACT_GRAPH,
  CONTRACT_INPUTS,
  CONTRACT_OUTPUTS,
  WIDTH,
  contractExpected,
  contractFeeds,
  writeContractFixture,
  type ContractFixture,
} from './contract-fixture.js';

export interface ContractTarget {
  readonly label: string;
  readonly create: () => Backend;
  readonly initOptions?: BackendInitOptions;
  readonly expectedName: string;
  readonly expectedDevice: Device;
  /**
   * Whether a graph loaded by path needs its external data listed (onnxruntime-web does;
   * onnxruntime-node finds the `.data` beside the graph itself).
   */
  readonly pathNeedsExternalData: boolean;
  /** Where `keepOnDevice` outputs end up: 'device' on GPUs (and the mock), 'cpu' where the EP has no device memory. */
  readonly keptLocation: 'cpu' | 'device';
}

/**
 * The one behaviour every backend must have, run against the mock, node-ort (CPU) and web-ort
 * (wasm in Node). Numbers are compared exactly: each output element is one IEEE float32 op.
 */
export function describeBackendContract(target: ContractTarget): void {
  describe(`backend contract: ${target.label}`, () => {
    let fixture: ContractFixture;
    let backend: Backend;

    const fromBytes = (): GraphSource => ({
      name: CONTRACT_GRAPH,
      bytes: fixture.graphBytes,
      externalData: [{ path: fixture.dataFileName, data: fixture.dataBytes }],
    });
    const fromPath = (): GraphSource => ({
      name: CONTRACT_GRAPH,
      path: fixture.graphPath,
      ...(target.pathNeedsExternalData ? { externalData: [{ path: fixture.dataFileName, data: fixture.dataPath }] } : {}),
    });

    beforeAll(async () => {
      fixture = writeContractFixture();
      backend = target.create();
      await backend.init(target.initOptions);
    });
    afterAll(async () => {
      await backend?.dispose();
      fixture?.remove();
    });

    async function expectCode(promise: Promise<unknown>, code: string): Promise<UniPicError> {
      const error = await promise.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(UniPicError.isInstance(error), `expected a UniPicError with code ${code}, got ${String(error)}`).toBe(true);
      expect((error as UniPicError).code).toBe(code);
      return error as UniPicError;
    }

    it('reports its info after init', async () => {
      const info = await backend.init(target.initOptions);
      expect(backend.specificationVersion).toBe(1);
      expect(backend.name).toBe(target.expectedName);
      expect(info.name).toBe(target.expectedName);
      expect(info.device).toBe(target.expectedDevice);
      expect(info.availableDevices).toContain(info.device);
      expect(typeof info.fp16).toBe('boolean');
      expect(info.limits).toBeTypeOf('object');
    });

    it('creates a session from bytes with external data, and runs it', async () => {
      const session = await backend.createSession(fromBytes());
      expect([...session.inputNames].sort()).toEqual([...CONTRACT_INPUTS].sort());
      expect([...session.outputNames].sort()).toEqual([...CONTRACT_OUTPUTS].sort());
      const feeds = contractFeeds(1);
      const outputs = await session.run(feeds);
      expect(Object.keys(outputs).sort()).toEqual([...CONTRACT_OUTPUTS].sort());
      const expected = contractExpected(feeds);
      for (const name of CONTRACT_OUTPUTS) {
        const output = outputs[name];
        expect(output.location).toBe('cpu');
        const host = await output.download();
        expect(host.type).toBe(name === 'next_ids' ? 'int64' : 'float32');
        expect(host.dims).toEqual(name === 'next_ids' ? [4] : [1, WIDTH]);
        // Tolerance 0: a single float32 add or multiply is exactly rounded on every backend.
        expect(Array.from(host.data as ArrayLike<number | bigint>)).toEqual(Array.from(expected[name] as ArrayLike<number | bigint>));
        output.dispose();
      }
      await session.dispose();
    });

    it('creates a session from a path', async () => {
      const session = await backend.createSession(fromPath());
      const feeds = contractFeeds(2);
      const outputs = await session.run(feeds, { outputs: ['shifted'] });
      const host = await outputs.shifted.download();
      // Tolerance 0 (one float32 add); this proves the external bias was found and loaded.
      expect(Array.from(host.data as Float32Array)).toEqual(Array.from(contractExpected(feeds).shifted));
      await session.dispose();
    });

    it('fetches only the requested outputs', async () => {
      const session = await backend.createSession(fromBytes());
      const outputs = await session.run(contractFeeds(3), { outputs: ['product', 'next_ids'] });
      expect(Object.keys(outputs).sort()).toEqual(['next_ids', 'product']);
      const again = await session.run(contractFeeds(4), { outputs: ['sum'] });
      expect(Object.keys(again)).toEqual(['sum']);
      await session.dispose();
    });

    it('keeps outputs on the device on request, feeds them back, downloads and disposes them', async () => {
      const session = await backend.createSession(fromBytes());
      const feeds = contractFeeds(5);
      const first = await session.run(feeds, { outputs: ['sum'], keepOnDevice: ['sum'] });
      const kept: DeviceTensor = first.sum;
      expect(kept.location).toBe(target.keptLocation);
      expect(kept.type).toBe('float32');
      expect(kept.dims).toEqual([1, WIDTH]);
      const expectedSum = contractExpected(feeds).sum;
      expect(Array.from((await kept.download()).data as Float32Array)).toEqual(Array.from(expectedSum));
      // Feed the kept tensor back as x: product = sum · y, one more exactly rounded multiply.
      const second = await session.run({ ...feeds, x: kept }, { outputs: ['product'] });
      const product = (await second.product.download()).data as Float32Array;
      expect(Array.from(product)).toEqual(Array.from(expectedSum, (value, index) => Math.fround(value * (feeds.y.data as Float32Array)[index])));
      kept.dispose();
      kept.dispose(); // idempotent
      await expectCode(kept.download(), 'DISPOSED');
      await expectCode(session.run({ ...feeds, x: kept }), 'DISPOSED');
      await session.dispose();
    });

    it('serializes concurrent runs on one session and completes them all', async () => {
      const session = await backend.createSession(fromBytes());
      const seeds = [6, 7, 8, 9];
      const finished: number[] = [];
      const results = await Promise.all(
        seeds.map((seed) =>
          session.run(contractFeeds(seed), { outputs: ['sum'] }).then((outputs) => {
            finished.push(seed);
            return outputs;
          }),
        ),
      );
      // One queue per session: runs finish in the order they were submitted.
      expect(finished).toEqual(seeds);
      for (const [index, seed] of seeds.entries()) {
        const host = await results[index].sum.download();
        expect(Array.from(host.data as Float32Array)).toEqual(Array.from(contractExpected(contractFeeds(seed)).sum));
      }
      await session.dispose();
    });

    it('counts live sessions back to zero after dispose', async () => {
      const before = backend.liveSessions;
      const first = await backend.createSession(fromBytes());
      const second = await backend.createSession(fromPath());
      expect(backend.liveSessions).toBe(before + 2);
      const pending = first.run(contractFeeds(10)).then(
        (outputs) => outputs,
        (error: unknown) => error,
      );
      await first.dispose();
      // dispose() releases only after a run already in flight; a run still queued is refused.
      // Which of the two this one was depends on timing, but it must settle one of those ways.
      const outcome = await pending;
      if (UniPicError.isInstance(outcome)) expect(outcome.code).toBe('DISPOSED');
      else expect(outcome).toHaveProperty('sum');
      expect(backend.liveSessions).toBe(before + 1);
      await first.dispose(); // idempotent
      await expectCode(first.run(contractFeeds(11)), 'DISPOSED');
      await second.dispose();
      expect(backend.liveSessions).toBe(before);
    });

    it('rejects a broken graph with a typed error', async () => {
      const before = backend.liveSessions;
      await expectCode(backend.createSession({ name: 'broken', bytes: fixture.brokenBytes }), 'INVALID_MODEL');
      expect(backend.liveSessions).toBe(before);
    });

    it('rejects unknown, missing and malformed feeds with InvalidInputError', async () => {
      const session = await backend.createSession(fromBytes());
      const feeds = contractFeeds(12);
      await expectCode(session.run({ ...feeds, z: feeds.x }), 'INVALID_INPUT');
      const { ids: _ids, ...withoutIds } = feeds;
      await expectCode(session.run(withoutIds), 'INVALID_INPUT');
      await expectCode(session.run({ ...feeds, x: { type: 'float32', dims: [1, WIDTH + 1], data: feeds.x.data } }), 'INVALID_INPUT');
      await expectCode(session.run({ ...feeds, x: { type: 'float32', dims: [1, WIDTH], data: new Int32Array(WIDTH) } }), 'INVALID_INPUT');
      await expectCode(session.run(feeds, { outputs: ['nope'] }), 'INVALID_INPUT');
      await expectCode(session.run(feeds, { outputs: ['sum'], keepOnDevice: ['product'] }), 'INVALID_INPUT');
      await session.dispose();
    });

    it('refuses sessions before init and after dispose', async () => {
      const fresh = target.create();
      await expectCode(fresh.createSession(fromBytes()), 'BACKEND_UNAVAILABLE');
      await fresh.init(target.initOptions);
      const session = await fresh.createSession(fromBytes());
      expect(fresh.liveSessions).toBe(1);
      await fresh.dispose();
      expect(fresh.liveSessions).toBe(0);
      await expectCode(session.run(contractFeeds(13)), 'DISPOSED');
      await expectCode(fresh.createSession(fromBytes()), 'DISPOSED');
    });
  });
}
