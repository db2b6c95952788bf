import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserModel } from '../../src/browser/open-browser-model.js';
import { IntegrityError, ModelNotFoundError, UniPic } from '../../src/index.node.js';
import { openNodeModel } from '../../src/node/open-node-model.js';
import { unipic1ManifestSchema as manifestSchema, type UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants } from '../sources/support/fixture.js';
import { FakeCacheStorage } from '../sources/support/fake-cache-storage.js';
import { QUICK } from '../reliability/support/tiny-fixture.js';
import { tinyModelDir } from '../support/tiny-model.js';
import { errorText, FAST_NETWORK, startHub, type HubFixture } from './support/hub-fixture.js';
import { readFolder, sha256 } from './support/hub-server.js';

// UniPic.load('hf:…') of a converted model published in a folder of a Hub repository.
const REPO = 'someone/unipic-tiny-onnx';
const ID = `hf:${REPO}/onnx`;

let fixture: HubFixture;
let manifest: Manifest;
let commit: string;
let model: Map<string, Buffer>;

const hub = (extra: Record<string, unknown> = {}) => ({ hub: { endpoint: fixture.endpoint, cacheDir: fixture.cacheDir, ...extra }, ...FAST_NETWORK });
const every = (m: Manifest) => m.files.map((file) => file.path);
const snapshot = (root: string, path: string) => join(root, `models--${REPO.replace('/', '--')}`, 'snapshots', commit, 'onnx', ...path.split('/'));

beforeAll(async () => {
  fixture = await startHub();
  // unipic's own cache (blob verification records) stays inside the test's folder.
  process.env.UNIPIC_CACHE_DIR = join(fixture.work, 'unipic-cache');
  model = await readFolder(await tinyModelDir(['fp32']));
  manifest = manifestSchema.parse(JSON.parse(model.get('unipic.json')!.toString()));
  const files = new Map<string, Buffer>([...model].map(([path, bytes]) => [`onnx/${path}`, bytes] as const));
  files.set('README.md', Buffer.from('a converted UniPic'));
  commit = fixture.hub.publish(REPO, files);
});
afterAll(async () => fixture.dispose());

describe("load('hf:…') in Node", () => {
  it('downloads into the HF cache, verifies against the manifest, and delivers snapshot paths', async () => {
    const events: LoadProgressEvent[] = [];
    const opened = await openNodeModel(ID, hub());
    expect(opened.manifest).toEqual(manifest);
    const resolved = await opened.resolve(every(manifest), { onProgress: (event) => events.push(event) });
    expectProgressInvariants(
      events,
      manifest.files.reduce((sum, file) => sum + file.size, 0),
    );
    for (const file of manifest.files) {
      const delivered = resolved.get(file.path);
      expect(delivered).toMatchObject({ kind: 'path', path: snapshot(fixture.cacheDir, file.path) });
      expect((await lstat(snapshot(fixture.cacheDir, file.path))).isSymbolicLink()).toBe(true);
      expect(await readlink(snapshot(fixture.cacheDir, file.path))).toMatch(/^(\.\.\/)+blobs\/[0-9a-f]{40,64}$/);
    }
    expect(await readFile(join(fixture.cacheDir, `models--${REPO.replace('/', '--')}`, 'refs', 'main'), 'utf8')).toBe(commit);
    // The README next to the folder was never fetched.
    expect(fixture.hub.requests.some((request) => request.path.endsWith('README.md'))).toBe(false);
  });

  it('loads a cached model with zero requests, online or offline, and runs it', async () => {
    const before = fixture.hub.allRequests().length;
    const opened = await openNodeModel(ID, hub());
    await opened.resolve(every(manifest));
    const offline = await openNodeModel(ID, { ...hub(), offline: true });
    expect(await offline.isAvailableOffline(every(manifest))).toBe(true);
    // UniPic.load through the snapshot links: ONNX Runtime finds each graph's external data beside it.
    const loaded = await UniPic.load(ID, { ...hub(), offline: true, dtype: 'fp32', device: 'cpu', threads: 1 });
    try {
      expect((await loaded.generate({ prompt: 'a harbour', ...QUICK }).result).images).toHaveLength(1);
    } finally {
      await loaded.dispose();
    }
    expect(fixture.hub.allRequests().length).toBe(before);
  });

  it('HF_HUB_OFFLINE with nothing cached fails with a typed error and makes no request', async () => {
    const before = fixture.hub.allRequests().length;
    const previous = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const failure = await openNodeModel(ID, hub({ cacheDir: join(fixture.work, 'empty') })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ModelNotFoundError);
      expect(failure).toMatchObject({ details: { reason: 'offline', repo: REPO } });
    } finally {
      if (previous === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = previous;
    }
    expect(fixture.hub.allRequests().length).toBe(before);
  });

  it('a pinned commit, and a new commit on main picked up with revalidate', async () => {
    const cacheDir = join(fixture.work, 'pinned');
    const pinned = await openNodeModel(`hf:${REPO}@${commit}/onnx`, hub({ cacheDir }));
    await pinned.resolve([manifest.tokenizer.json]);
    expect(fixture.hub.requests.some((request) => request.path.endsWith(`/revision/${commit}`) || request.path.includes(`/resolve/${commit}/`))).toBe(true);

    const renamed = { ...manifest, name: 'republished' };
    const files = new Map<string, Buffer>([...model].map(([path, bytes]) => [`onnx/${path}`, bytes] as const));
    files.set('onnx/unipic.json', Buffer.from(JSON.stringify(renamed)));
    const next = fixture.hub.publish(REPO, files);
    const stale = await openNodeModel(ID, hub());
    expect(stale.manifest.name).toBe(manifest.name);
    const fresh = await openNodeModel(ID, { ...hub(), revalidate: true });
    expect(fresh.manifest.name).toBe('republished');
    expect(await readFile(join(fixture.cacheDir, `models--${REPO.replace('/', '--')}`, 'refs', 'main'), 'utf8')).toBe(next);
  });

  it('a repository file that is not what the manifest lists is refused and not kept', async () => {
    const tampered = new Map<string, Buffer>([...model].map(([path, bytes]) => [`onnx/${path}`, bytes] as const));
    const config = manifest.tokenizer.config;
    const original = model.get(config)!;
    const changed = Buffer.from(original);
    changed[10] ^= 1;
    tampered.set(`onnx/${config}`, changed);
    fixture.hub.publish('someone/tampered', tampered);
    const cacheDir = join(fixture.work, 'tampered');
    const opened = await openNodeModel('hf:someone/tampered/onnx', hub({ cacheDir }));
    const failure = await opened.resolve([config]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect(failure).toMatchObject({ details: { expectedSha256: sha256(original), actualSha256: sha256(changed) } });
    const missing = await openNodeModel('hf:someone/tampered/elsewhere', hub({ cacheDir })).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['elsewhere/unipic.json'] } });
    const snapshots = join(cacheDir, 'models--someone--tampered', 'snapshots');
    const [tamperedCommit] = await readdir(snapshots);
    await expect(lstat(join(snapshots, tamperedCommit, 'onnx', ...config.split('/')))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a gated model loads with the token, which reaches the Hub only and no error carries', async () => {
    const files = new Map<string, Buffer>([...model].map(([path, bytes]) => [`onnx/${path}`, bytes] as const));
    fixture.hub.publish('someone/gated-onnx', files, { gated: true });
    const cacheDir = join(fixture.work, 'gated');
    const refused = await openNodeModel('hf:someone/gated-onnx/onnx', hub({ cacheDir })).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'gated', tokenSent: false } });
    const cdnBefore = fixture.hub.cdn.requests.length;
    const hubBefore = fixture.hub.requests.length;
    const opened = await openNodeModel('hf:someone/gated-onnx/onnx', hub({ cacheDir, token: fixture.hub.token }));
    await opened.resolve(every(manifest));
    for (const request of fixture.hub.requests.slice(hubBefore)) expect(request.authorization).toBe(`Bearer ${fixture.hub.token}`);
    const cdn = fixture.hub.cdn.requests.slice(cdnBefore);
    expect(cdn.length).toBeGreaterThan(0);
    for (const request of cdn) expect(request.authorization).toBeUndefined();
    const missing = await openNodeModel('hf:someone/gated-onnx/nothing', hub({ cacheDir, token: fixture.hub.token })).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND' });
    for (const error of [refused, missing]) expect(errorText(error)).not.toContain(fixture.hub.token);
  });
});

describe("load('hf:…') in browsers (Cache API)", () => {
  it('stores files under their /resolve/<commit>/ URLs, then loads with zero requests and offline', async () => {
    const storage = new FakeCacheStorage();
    const options = { caches: storage.asCacheStorage(), hub: { endpoint: fixture.endpoint }, ...FAST_NETWORK };
    const opened = await openBrowserModel(`hf:${REPO}@${commit}/onnx`, options);
    const resolved = await opened.resolve(every(manifest));
    for (const path of every(manifest)) expect(resolved.get(path).kind).toBe('url');
    resolved.release();
    const before = fixture.hub.allRequests().length;
    const again = await openBrowserModel(`hf:${REPO}@${commit}/onnx`, { ...options, offline: true });
    (await again.resolve(every(manifest))).release();
    expect(fixture.hub.allRequests().length).toBe(before);

    // A branch is resolved once and remembered in the Cache API.
    const branch = await openBrowserModel(ID, options);
    expect(branch.manifest.name).toBe('republished');
    const apiCalls = fixture.hub.apiRequests().length;
    await openBrowserModel(ID, { ...options, offline: true });
    expect(fixture.hub.apiRequests().length).toBe(apiCalls);
  });

  it('validates the hub options', async () => {
    const failure = await openBrowserModel(ID, { hub: { endpoint: 'ftp://nope', extra: 1 } as never }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
