import { readFile, stat, writeFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError } from '../../src/errors/index.js';
import { openNodeModel } from '../../src/node/open-node-model.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants, FAST_RETRIES, startFixture, type Fixture } from './support/fixture.js';
import { sha256Hex } from './support/synthetic-model.js';

const LARGE = 'graphs/llm.fp32.onnx.data';

describe('abort and resume', () => {
  let fixture: Fixture;
  let modelFolder: () => Promise<string>;
  beforeEach(async () => {
    fixture = await startFixture({ largeBytes: 400_000 });
    modelFolder = async () => join(fixture.cacheDir, (await readdir(fixture.cacheDir))[0]);
  });
  afterEach(async () => fixture.dispose());

  async function abortMidFile(): Promise<{ partialSize: number }> {
    fixture.server.chunkDelayMs = 3;
    const controller = new AbortController();
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const failure = await model
      .resolve([LARGE], {
        signal: controller.signal,
        onProgress: (event) => {
          if (event.fileLoaded > 150_000) controller.abort(new Error('user cancelled'));
        },
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AbortError);
    expect((failure as AbortError).name).toBe('AbortError');
    expect((failure as AbortError).message).toBe('user cancelled');
    const folder = await modelFolder();
    // Nothing at the final path; the partial stays for a resume.
    await expect(stat(join(folder, LARGE))).rejects.toMatchObject({ code: 'ENOENT' });
    const partial = await stat(join(folder, '.unipic', `${LARGE}.partial`));
    expect(partial.size).toBeGreaterThan(150_000);
    expect(partial.size).toBeLessThan(400_000);
    fixture.server.chunkDelayMs = 0;
    return { partialSize: partial.size };
  }

  it('an abort mid-file rejects with AbortError, leaves no final file and keeps the partial', async () => {
    await abortMidFile();
    const info = JSON.parse(await readFile(join(await modelFolder(), '.unipic', `${LARGE}.partial.json`), 'utf8'));
    expect(info.validator).toBe(fixture.server.etags.get(`/model/${LARGE}`));
  });

  it('the next load resumes the left-over partial with Range and If-Range', async () => {
    const { partialSize } = await abortMidFile();
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const events: LoadProgressEvent[] = [];
    const file = (await model.resolve([LARGE], { onProgress: (event) => events.push(event) })).get(LARGE);
    const requests = fixture.server.requestsFor(LARGE);
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({
      range: `bytes=${partialSize}-`,
      ifRange: fixture.server.etags.get(`/model/${LARGE}`),
      status: 206,
    });
    if (file.kind !== 'path') throw new Error('expected a path');
    expect(sha256Hex(await readFile(file.path))).toBe(sha256Hex(fixture.model.files.get(LARGE)!));
    expectProgressInvariants(events, 400_000);
    await expect(stat(join(await modelFolder(), '.unipic', `${LARGE}.partial`))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a partial whose server copy changed (validator mismatch) is restarted from byte 0', async () => {
    await abortMidFile();
    fixture.server.etags.set(`/model/${LARGE}`, '"republished"');
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const file = (await model.resolve([LARGE])).get(LARGE);
    const resumed = fixture.server.requestsFor(LARGE)[1];
    expect(resumed.ifRange).toBeDefined();
    expect(resumed.status).toBe(200); // the server refused the range: the whole file came again
    if (file.kind !== 'path') throw new Error('expected a path');
    expect(sha256Hex(await readFile(file.path))).toBe(sha256Hex(fixture.model.files.get(LARGE)!));
  });

  it('a partial without a recorded validator is not trusted: the file is fetched whole', async () => {
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await first.resolve(['tokenizer.json']); // creates the model folder and manifest
    const partial = join(await modelFolder(), '.unipic', `${LARGE}.partial`);
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(partial, fixture.model.files.get(LARGE)!.subarray(0, 1234));
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await model.resolve([LARGE]);
    expect(fixture.server.requestsFor(LARGE)[0].range).toBeUndefined();
  });

  it('a complete partial left before its rename is verified and committed without a request', async () => {
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await first.resolve(['tokenizer.json']);
    const partial = join(await modelFolder(), '.unipic', `${LARGE}.partial`);
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(partial, fixture.model.files.get(LARGE)!);
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await model.resolve([LARGE]);
    expect(fixture.server.requestsFor(LARGE)).toHaveLength(0);
  });

  it('a connection cut mid-file is resumed at the byte reached', async () => {
    // The cut waits until the client has put bytes of this transfer on disk (bytes still in flight
    // at a cut are lost, so on a loaded machine a plain delay could leave nothing to resume from).
    const beforeClose = async () => {
      for (let i = 0; i < 500; i++) {
        const partial = await modelFolder()
          .then((folder) => join(folder, '.unipic', `${LARGE}.partial`))
          .catch(() => undefined);
        if (partial && (await stat(partial).catch(() => undefined))?.size) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    fixture.server.addFault(LARGE, { kind: 'close-after', bytes: 120_000, times: 1, beforeClose });
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const events: LoadProgressEvent[] = [];
    const file = (await model.resolve([LARGE], { onProgress: (event) => events.push(event) })).get(LARGE);
    const requests = fixture.server.requestsFor(LARGE);
    expect(requests).toHaveLength(2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(120_000);
    expect(requests[1].status).toBe(206);
    expectProgressInvariants(events, 400_000);
    if (file.kind !== 'path') throw new Error('expected a path');
    expect(sha256Hex(await readFile(file.path))).toBe(sha256Hex(fixture.model.files.get(LARGE)!));
  });

  it('a cut on a server without range support restarts the transfer and skips what was delivered', async () => {
    fixture.server.addFault(LARGE, { kind: 'close-after', bytes: 120_000, times: 1 });
    fixture.server.addFault(LARGE, { kind: 'ignore-range' });
    const model = await openNodeModel(fixture.baseUrl, { cache: false, ...FAST_RETRIES });
    const events: LoadProgressEvent[] = [];
    const file = (await model.resolve([LARGE], { onProgress: (event) => events.push(event) })).get(LARGE);
    expect(fixture.server.requestsFor(LARGE).map((request) => request.status)).toEqual([200, 200]);
    expectProgressInvariants(events, 400_000);
    if (file.kind !== 'bytes') throw new Error('expected bytes');
    expect(sha256Hex(file.bytes)).toBe(sha256Hex(fixture.model.files.get(LARGE)!));
  });

  it('an already aborted signal makes no request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(fixture.server.requests).toHaveLength(0);
  });

  it('an abort while waiting for the manifest rejects with AbortError', async () => {
    // The server holds its answer for 60 s; the abort comes once the request has reached it.
    fixture.server.addFault('unipic.json', { kind: 'delay', milliseconds: 60_000 });
    const controller = new AbortController();
    const opening = openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, signal: controller.signal });
    while (fixture.server.requestsFor('unipic.json').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(opening).rejects.toBeInstanceOf(AbortError);
    // Rejected without waiting for the answer: the server has not sent one.
    expect(fixture.server.requestsFor('unipic.json')).toEqual([expect.not.objectContaining({ status: expect.anything() })]);
  });
});
