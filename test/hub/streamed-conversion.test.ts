import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel } from '../../src/convert/index.js';
import { AbortError, IntegrityError, ModelNotFoundError } from '../../src/errors/index.js';
import { convertKontextCheckpoint } from '../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { makeTinyKontextCheckpoint } from '../../src/families/unipic2-kontext/convert/tiny-kontext.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants } from '../sources/support/fixture.js';
import { FAST_NETWORK, fixtureConvertOptions, manifestHashes as hashes, startHub, type HubFixture } from './support/hub-fixture.js';
import { readFolder, sha256 } from './support/hub-server.js';

// An `hf:` conversion streams its weights: a worker thread downloads them (every safetensors
// header first, then each file in order) while the converter reads each tensor once its bytes are
// on disk. The CDN holds the last shard part-way until the converter has written a graph: the
// overlap is shown by that state, never by timing. Kontext's tiny checkpoint (diffusers
// safetensors) is the subject; its converter builds clip_l first, from an earlier file.
const REPO = 'Skywork/UniPic2-SD3.5M-Kontext-2B';
const HELD = 'text_encoder_3/model-00002-of-00002.safetensors';

let fixture: HubFixture;
let checkpoint: Map<string, Buffer>;
let reference: Map<string, string>;
let commit: string;

const options = (cache: string, extra: Record<string, unknown> = {}) => fixtureConvertOptions(fixture, cache, extra);
const cdnPath = (path: string) => `lfs/${sha256(checkpoint.get(path)!)}`;
const headerEnd = (bytes: Buffer) => 8 + Number(bytes.readBigUInt64LE(0));
const blobs = (cache: string) => join(fixture.work, cache, `models--${REPO.replace('/', '--')}`, 'blobs');
/** Hold the last shard's ranged transfer (after 100 bytes) until the converter has written clip_l. */
const holdUntilFirstGraph = (out: string) =>
  fixture.hub.cdn.addFault(cdnPath(HELD), { kind: 'hold-until-exists', bytes: 100, path: join(out, 'clip_l.fp32.onnx'), times: 1 });

beforeAll(async () => {
  fixture = await startHub();
  const folder = join(fixture.work, 'kontext-checkpoint');
  await makeTinyKontextCheckpoint(folder, { seed: 7 });
  checkpoint = await readFolder(folder);
  commit = fixture.hub.publish(REPO, checkpoint);
  reference = hashes((await convertKontextCheckpoint(folder, join(fixture.work, 'local'), { dtypes: ['fp32'] })).manifest);
  // The held shard must have bytes after its header for the converter to wait on.
  const held = checkpoint.get(HELD)!;
  expect(held.byteLength).toBeGreaterThan(headerEnd(held) + 16 * 1024 + 1000);
}, 120_000);
afterAll(async () => fixture.dispose());

describe('hf: conversion streams the weights into the converter', () => {
  it('writes a graph while the last shard is still downloading, and converts the same model', async () => {
    const out = join(fixture.work, 'overlap-out');
    holdUntilFirstGraph(out);
    const events: LoadProgressEvent[] = [];
    const result = await convertModel(`hf:${REPO}`, out, options('overlap', { onDownloadProgress: (event: LoadProgressEvent) => events.push(event) }));
    expect(hashes(result.manifest)).toEqual(reference);

    // The shard's header came first (an unranged request the client ended after the header), then
    // the rest from the byte reached; the CDN held that transfer until clip_l.fp32.onnx existed.
    const held = checkpoint.get(HELD)!;
    const transfers = fixture.hub.cdn.requestsFor(cdnPath(HELD));
    expect(transfers).toEqual([
      expect.objectContaining({ status: 200 }),
      expect.objectContaining({ range: expect.stringMatching(/^bytes=\d+-$/), status: 206, held: 'released' }),
    ]);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(transfers[1].range ?? '')?.[1]);
    expect(resumedAt).toBe(headerEnd(held));

    // Progress stays byte-accurate over the needed files; the cache ends complete, no partial left.
    // Everything make-tiny wrote but model_index.json (the converter reads the sub-folders).
    const total = [...checkpoint].filter(([path]) => path !== 'model_index.json').reduce((sum, [, bytes]) => sum + bytes.byteLength, 0);
    expectProgressInvariants(events, total);
    expect((await readdir(blobs('overlap'))).filter((name) => name.endsWith('.incomplete'))).toEqual([]);
    expect(await readFile(join(blobs('overlap'), '..', 'refs', 'main'), 'utf8')).toBe(commit);
  });

  it('a download cut after the converter started fails the conversion, leaves no output, and the next run resumes it', async () => {
    const out = join(fixture.work, 'cut-out');
    const held = checkpoint.get(HELD)!;
    holdUntilFirstGraph(out);
    // The ranged (held) transfer, which starts at the header's end, is cut 2 kB in once clip_l
    // exists. The header's own unranged request is left whole: a reset there may drop the header in
    // flight and fail the run before the converter starts (seen once in CI).
    fixture.hub.cdn.addFault(cdnPath(HELD), { kind: 'close-after', bytes: 2000, times: 1, rangedOnly: true });
    const cut = await convertModel(`hf:${REPO}`, out, options('cut', { network: { ...FAST_NETWORK, retries: 0 } })).catch((error: unknown) => error);
    expect(cut).toBeInstanceOf(ModelNotFoundError);
    expect(fixture.hub.cdn.requestsFor(cdnPath(HELD)).at(-1)).toMatchObject({ held: 'released' });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    // A reset connection may drop bytes still in flight: at least the header, not the whole file.
    const partial = (await stat(join(blobs('cut'), `${sha256(held)}.incomplete`))).size;
    expect(partial).toBeGreaterThanOrEqual(headerEnd(held));
    expect(partial).toBeLessThan(held.byteLength);

    const before = fixture.hub.cdn.requestsFor(cdnPath(HELD)).length;
    const result = await convertModel(`hf:${REPO}`, out, options('cut'));
    expect(hashes(result.manifest)).toEqual(reference);
    expect(fixture.hub.cdn.requestsFor(cdnPath(HELD)).slice(before)).toEqual([expect.objectContaining({ range: `bytes=${partial}-`, status: 206 })]);
  });

  it('a server that announces another size mid-stream fails the conversion with IntegrityError and keeps nothing', async () => {
    const out = join(fixture.work, 'lying-out');
    const held = checkpoint.get(HELD)!;
    holdUntilFirstGraph(out);
    fixture.hub.cdn.addFault(cdnPath(HELD), { kind: 'grow', extra: 10, times: 1 });
    const lying = await convertModel(`hf:${REPO}`, out, options('lying')).catch((error: unknown) => error);
    expect(lying).toBeInstanceOf(IntegrityError);
    expect(fixture.hub.cdn.requestsFor(cdnPath(HELD)).at(-1)).toMatchObject({ status: 206 });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(blobs('lying'))).filter((name) => name.startsWith(sha256(held)))).toEqual([]);
  });

  it('an abort while converting stops the download and rejects with AbortError; the partial file stays for the next run', async () => {
    const out = join(fixture.work, 'abort-out');
    const held = checkpoint.get(HELD)!;
    // The last shard stays held until the client goes away (or 30 s): the download cannot finish
    // first, however slow the machine.
    fixture.hub.cdn.addFault(cdnPath(HELD), { kind: 'hold-until-exists', bytes: 100, path: join(out, 'never'), times: 1 });
    const controller = new AbortController();
    const onProgress = (event: { item?: string }) => {
      if (event.item?.startsWith('clip_g')) controller.abort();
    };
    const aborted = await convertModel(`hf:${REPO}`, out, options('abort', { signal: controller.signal, onProgress })).catch((error: unknown) => error);
    expect(aborted).toBeInstanceOf(AbortError);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(join(blobs('abort'), `${sha256(held)}.incomplete`))).size).toBeGreaterThanOrEqual(headerEnd(held));
  });
});
