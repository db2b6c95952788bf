import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '../../src/errors/index.js';
import { openNodeModel } from '../../src/node/open-node-model.js';
import { FAST_RETRIES, startFixture, type Fixture } from './support/fixture.js';
import { sha256Hex } from './support/synthetic-model.js';
import { TestServer } from './support/test-server.js';

const FILE = 'graphs/vae_decoder.fp32.onnx.data';

describe('HTTP failures', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await startFixture();
  });
  afterEach(async () => fixture.dispose());

  const open = (options: Record<string, unknown> = {}) => openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES, ...options });

  it('404 is ModelNotFoundError at once, without retries', async () => {
    fixture.server.addFault(FILE, { kind: 'status', status: 404 });
    const model = await open();
    const failure = await model.resolve([FILE]).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as ModelNotFoundError).details).toMatchObject({ status: 404 });
    expect(fixture.server.requestsFor(FILE)).toHaveLength(1);
  });

  it('a missing manifest is ModelNotFoundError', async () => {
    fixture.server.addFault('unipic.json', { kind: 'status', status: 404 });
    await expect(open()).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('401/403 are final and say credentials are needed', async () => {
    fixture.server.addFault('unipic.json', { kind: 'status', status: 401 });
    await expect(open()).rejects.toThrow(/headers/);
    expect(fixture.server.requests).toHaveLength(1);
  });

  it('5xx is retried with backoff and then succeeds', async () => {
    fixture.server.addFault(FILE, { kind: 'status', status: 503, times: 2 });
    const model = await open();
    const file = (await model.resolve([FILE])).get(FILE);
    expect(fixture.server.requestsFor(FILE).map((request) => request.status)).toEqual([503, 503, 200]);
    expect(file.kind).toBe('path');
  });

  it('persistent 5xx ends after retries + 1 attempts with a typed error', async () => {
    fixture.server.addFault(FILE, { kind: 'status', status: 500 });
    const model = await open({ retries: 3 });
    const failure = await model.resolve([FILE]).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as ModelNotFoundError).details).toMatchObject({ attempts: 4, status: 500 });
    expect(fixture.server.requestsFor(FILE)).toHaveLength(4);
  });

  it('429 honours Retry-After', async () => {
    fixture.server.addFault(FILE, { kind: 'status', status: 429, headers: { 'retry-after': '0' }, times: 1 });
    const model = await open({ retryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    const started = Date.now();
    await model.resolve([FILE]);
    // The backoff without Retry-After would be 30-60 s; half of its minimum leaves a loaded machine room.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(fixture.server.requestsFor(FILE)).toHaveLength(2);
  });

  it('a redirect loop ends after maxRedirects hops', async () => {
    fixture.server.addFault(FILE, { kind: 'redirect', location: `/model/${FILE}` });
    const model = await open({ maxRedirects: 4 });
    const failure = await model.resolve([FILE]).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as ModelNotFoundError).details).toMatchObject({ reason: 'too-many-redirects' });
    expect(fixture.server.requestsFor(FILE)).toHaveLength(5);
  });

  it('redirects are followed, and credentials are not sent to another origin', async () => {
    const cdn = new TestServer();
    const cdnBase = await cdn.start();
    try {
      cdn.setFile('blob', fixture.model.files.get(FILE)!);
      fixture.server.addFault(FILE, { kind: 'redirect', location: `${cdnBase}blob` });
      const model = await open({ headers: { Authorization: 'Bearer secret' } });
      const file = (await model.resolve([FILE])).get(FILE);
      expect(file.kind).toBe('path');
      expect(fixture.server.requestsFor(FILE)[0].authorization).toBe('Bearer secret');
      expect(cdn.requestsFor('blob')).toHaveLength(1);
      expect(cdn.requestsFor('blob')[0].authorization).toBeUndefined();
    } finally {
      await cdn.close();
    }
  });

  it('a stalled transfer times out and is resumed', async () => {
    const large = 'graphs/llm.fp32.onnx.data';
    fixture.server.addFault(large, { kind: 'stall-after', bytes: 100_000, times: 1 });
    // 1 s without data: long enough that a loaded machine's healthy transfer never trips it.
    const model = await open({ timeoutMs: 1000 });
    const file = (await model.resolve([large], {})).get(large);
    const requests = fixture.server.requestsFor(large);
    expect(requests).toHaveLength(2);
    expect(requests[1].range).toMatch(/^bytes=\d+-$/);
    if (file.kind !== 'path') throw new Error('expected a path');
    const { readFile } = await import('node:fs/promises');
    expect(sha256Hex(await readFile(file.path))).toBe(sha256Hex(fixture.model.files.get(large)!));
  });

  it('a server that never answers in time fails after the retries with a timeout reason', async () => {
    // The server would answer after 60 s; each attempt gives up after 1 s. The timeout covers the
    // manifest's request too: 1 s (not less) so a loaded machine's healthy answer never trips it.
    fixture.server.addFault(FILE, { kind: 'delay', milliseconds: 60_000 });
    const model = await open({ timeoutMs: 1000, retries: 1 });
    const failure = await model.resolve([FILE]).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as Error).message).toMatch(/no data for 1000 ms/);
    expect(fixture.server.requestsFor(FILE)).toHaveLength(2);
    expect(fixture.server.requestsFor(FILE).map((request) => request.status)).toEqual([undefined, undefined]);
  });

  it('invalid options are refused with every offending path', async () => {
    await expect(open({ retries: -1, timeoutMs: 'soon', bogus: true })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      issues: expect.arrayContaining([expect.objectContaining({ path: 'retries' }), expect.objectContaining({ path: 'timeoutMs' })]),
    });
  });
});
