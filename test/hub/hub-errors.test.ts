import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniPic1HubCheckpoint } from '../../src/families/unipic1/convert/hub-files.js';
import { hubErrorOf } from '../../src/core/hub/hub-response-error.js';
import { HubError, IntegrityError, UniPicError } from '../../src/errors/index.js';
import { fetchHubFiles, type FetchHubFilesOptions } from '../../src/node/hf-cache/fetch-hub-files.js';
import { hubEnvironment } from '../../src/node/hf-cache/hub-environment.js';
import { errorText, FAST_NETWORK, REPO, startHub, tinyRepoFiles, type HubFixture } from './support/hub-fixture.js';
import { sha256 } from './support/hub-server.js';

// Every refusal the Hub can answer, as the typed error a user gets; the token never in any of them.
let fixture: HubFixture;
let files: Map<string, Buffer>;
const errors: unknown[] = [];
const OPEN_REPO = 'someone/open-unipic';

const fetchFrom = async (repo: string, extra: Partial<FetchHubFilesOptions> & { revision?: string; cacheName?: string } = {}) => {
  const { revision = 'main', cacheName = 'cache', ...rest } = extra;
  const failure = await fetchHubFiles(uniPic1HubCheckpoint.requests({ repo, revision, subfolder: '' }, false, {}), {
    hub: { endpoint: fixture.endpoint, token: fixture.hub.token, cacheDir: join(fixture.work, cacheName) },
    network: FAST_NETWORK,
    environment: { UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache') },
    ...rest,
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  errors.push(failure);
  return failure;
};

beforeAll(async () => {
  fixture = await startHub();
  ({ files } = await tinyRepoFiles());
  fixture.hub.publish(REPO, files, { gated: true });
  fixture.hub.publish(OPEN_REPO, files);
  fixture.hub.publish('someone/readme-only', new Map([['README.md', Buffer.from('nothing here')]]));
});
afterAll(async () => {
  // The token reached the Hub (it was needed) and appears in no error: message, stack, details, cause.
  expect(fixture.hub.requests.some((request) => request.authorization === `Bearer ${fixture.hub.token}`)).toBe(true);
  for (const error of errors) expect(errorText(error)).not.toContain(fixture.hub.token);
  await fixture.dispose();
});

describe('Hub refusals become typed errors', () => {
  it('an unknown repository, with or without a token', async () => {
    const withToken = await fetchFrom('nobody/nothing');
    expect(withToken).toBeInstanceOf(HubError);
    expect(withToken).toMatchObject({ code: 'HUB_REPO_NOT_FOUND', details: { repo: 'nobody/nothing', status: 404, hubErrorCode: 'RepoNotFound', tokenSent: true } });
    const anonymous = await fetchFrom('nobody/nothing', { hub: { endpoint: fixture.endpoint, cacheDir: join(fixture.work, 'c') } });
    expect(anonymous).toMatchObject({ code: 'HUB_REPO_NOT_FOUND', details: { status: 401, tokenSent: false } });
    expect((anonymous as Error).message).toContain('HF_TOKEN');
  });

  it('a gated repository without a token, and with a token that has no access', async () => {
    const anonymous = await fetchFrom(REPO, { hub: { endpoint: fixture.endpoint, cacheDir: join(fixture.work, 'c') } });
    expect(anonymous).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'gated', status: 401, tokenSent: false } });
    expect((anonymous as Error).message).toMatch(/gated.*HF_TOKEN/);
    const wrongToken = `hf_wrong_${'x'.repeat(20)}`;
    const refused = await fetchFrom(REPO, { hub: { endpoint: fixture.endpoint, token: wrongToken, cacheDir: join(fixture.work, 'c') } });
    expect(refused).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'gated', status: 403, tokenSent: true } });
    expect(errorText(refused)).not.toContain(wrongToken);
  });

  it('HF_TOKEN and HF_ENDPOINT from the environment open the gated repository', async () => {
    const failure = await fetchFrom(REPO, {
      hub: { cacheDir: join(fixture.work, 'env-cache') },
      environment: { HF_TOKEN: fixture.hub.token, HF_ENDPOINT: fixture.endpoint, UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache') },
    });
    expect(failure).toBeUndefined();
  });

  it('a revision that does not exist', async () => {
    const failure = await fetchFrom(REPO, { revision: 'v9.9' });
    expect(failure).toMatchObject({ code: 'HUB_REVISION_NOT_FOUND', details: { revision: 'v9.9', hubErrorCode: 'RevisionNotFound' } });
    expect((failure as Error).message).toContain('"v9.9"');
  });

  it('a repository without the files the converter needs names them', async () => {
    const failure = await fetchFrom('someone/readme-only');
    expect(failure).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['pytorch_model.bin'] } });
  });

  it('a server that lies about a size fails before the body, keeps nothing, and a corrupt body fails at the end', async () => {
    const big = files.get('pytorch_model.bin')!;
    // The CDN answers with a Content-Length (and body) other than the size the listing gives.
    fixture.hub.cdn.setFile(`lfs/${sha256(big)}`, Buffer.concat([big, Buffer.alloc(10)]));
    const failure = await fetchFrom(OPEN_REPO, { cacheName: 'lying' });
    fixture.hub.cdn.setFile(`lfs/${sha256(big)}`, big);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect(failure).toMatchObject({ details: { expectedSize: big.byteLength, actualSize: big.byteLength + 10 } });
    const blobs = join(fixture.work, 'lying', 'models--someone--open-unipic', 'blobs');
    expect((await readdir(blobs)).filter((name) => name.startsWith(sha256(big)))).toEqual([]);

    fixture.hub.cdn.addFault(`lfs/${sha256(big)}`, { kind: 'corrupt', times: 1 });
    const corrupt = await fetchFrom(OPEN_REPO, { cacheName: 'corrupt' });
    expect(corrupt).toBeInstanceOf(IntegrityError);
    expect(corrupt).toMatchObject({ details: { expectedSha256: sha256(big) } });
    const corruptBlobs = join(fixture.work, 'corrupt', 'models--someone--open-unipic', 'blobs');
    expect((await readdir(corruptBlobs)).filter((name) => name.startsWith(sha256(big)))).toEqual([]);
  });

  it('a file the listing names but the CDN no longer has is HUB_ENTRY_NOT_FOUND naming it, no blob kept', async () => {
    const big = files.get('pytorch_model.bin')!;
    fixture.hub.cdn.addFault(`lfs/${sha256(big)}`, { kind: 'status', status: 404, times: 1 });
    const failure = await fetchFrom(OPEN_REPO, { cacheName: 'vanished' });
    expect(failure).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['pytorch_model.bin'], status: 404 } });
    expect((failure as Error).message).toContain('pytorch_model.bin');
    const blobs = join(fixture.work, 'vanished', 'models--someone--open-unipic', 'blobs');
    expect((await readdir(blobs).catch(() => [])).filter((name) => name.startsWith(sha256(big)))).toEqual([]);
  });

  it('a listing with a path escaping the repository is refused before anything is written', async () => {
    fixture.hub.publish('someone/hostile', new Map([...files, ['../../outside.bin', Buffer.from('x')]]));
    const failure = await fetchFrom('someone/hostile', { cacheName: 'hostile' });
    expect(failure).toMatchObject({ code: 'INVALID_MODEL' });
    expect((failure as Error).message).toContain('not a plain relative path');
  });

  it('an abort mid-file rejects with AbortError and keeps the .incomplete for the next run', async () => {
    const big = files.get('pytorch_model.bin')!;
    fixture.hub.cdn.chunkDelayMs = 2;
    const controller = new AbortController();
    const failure = await fetchFrom(OPEN_REPO, {
      cacheName: 'aborted',
      signal: controller.signal,
      onProgress: (event) => {
        if (event.file.endsWith('pytorch_model.bin') && event.fileLoaded > 1_000_000) controller.abort(new Error('user cancelled'));
      },
    });
    fixture.hub.cdn.chunkDelayMs = 0;
    expect(failure).toMatchObject({ name: 'AbortError', code: 'ABORTED', message: 'user cancelled' });
    const blobs = join(fixture.work, 'aborted', 'models--someone--open-unipic', 'blobs');
    expect(await readdir(blobs)).toEqual([`${sha256(big)}.incomplete`]);
  });

  it('a full disk is the typed cache-full error', async () => {
    const mountPoint = join(fixture.work, 'small-disk');
    await mkdir(mountPoint, { recursive: true });
    // 3 MB: the small files fit, the 5.4 MB pytorch_model.bin does not.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint]);
    try {
      const failure = await fetchFrom(OPEN_REPO, { hub: { endpoint: fixture.endpoint, cacheDir: mountPoint } });
      expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-full' } });
      // What fitted is kept as the .incomplete, for a run with more space to resume; no blob is published.
      const big = sha256(files.get('pytorch_model.bin')!);
      const blobs = await readdir(join(mountPoint, 'models--someone--open-unipic', 'blobs'));
      expect(blobs.filter((name) => name.startsWith(big))).toEqual([`${big}.incomplete`]);
    } finally {
      execFileSync('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });
});

describe('several repositories in one fetch (a family that reads a second repository)', () => {
  it('fetches each at its own commit into its own snapshot, with one progress total', async () => {
    const both = [
      ...uniPic1HubCheckpoint.requests({ repo: REPO, revision: 'main', subfolder: '' }, false, {}),
      { repo: 'someone/readme-only', revision: 'main', select: () => ['README.md'] },
    ];
    const events: { file: string; total: number; loaded: number }[] = [];
    const snapshots = await fetchHubFiles(both, {
      hub: { endpoint: fixture.endpoint, token: fixture.hub.token, cacheDir: join(fixture.work, 'two-repos') },
      network: FAST_NETWORK,
      environment: { UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache') },
      onProgress: (event) => events.push(event),
    });
    expect(snapshots.map((snapshot) => snapshot.repo)).toEqual([REPO, 'someone/readme-only']);
    expect(snapshots[1].directory).toContain('models--someone--readme-only/snapshots/');
    const total = [...snapshots[0].files.map((path) => files.get(path)!.byteLength), 'nothing here'.length].reduce((a, b) => a + b, 0);
    expect(new Set(events.map((event) => event.total))).toEqual(new Set([total]));
    expect(events.at(-1)).toMatchObject({ file: 'someone/readme-only/README.md', loaded: total });
  });
});

describe('error mapping and environment', () => {
  const context = { repo: 'a/b', revision: 'main', tokenSent: false, host: 'hub.test' };
  const headers = (code?: string) => new Headers(code ? { 'x-error-code': code } : {});

  it('maps X-Error-Code first, then the status', () => {
    expect(hubErrorOf(404, headers('EntryNotFound'), { ...context, path: 'x.bin' })).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['x.bin'] } });
    expect(hubErrorOf(403, headers('DisabledRepo'), context)).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'disabled' } });
    expect(hubErrorOf(401, headers(), { ...context, tokenSent: true })).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'unauthorized' } });
    expect(hubErrorOf(403, headers(), context)).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'forbidden' } });
    expect(hubErrorOf(404, headers(), { ...context, path: 'y' })).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND' });
    expect(hubErrorOf(404, headers(), context)).toMatchObject({ code: 'HUB_REPO_NOT_FOUND' });
    expect(hubErrorOf(500, headers('RepoNotFound'), context)).toBeUndefined();
  });

  it('survives a worker boundary as the same class', () => {
    const error = hubErrorOf(401, headers('GatedRepo'), context)!;
    const rebuilt = UniPicError.fromJSON(JSON.parse(JSON.stringify(error.toJSON())));
    expect(rebuilt).toBeInstanceOf(HubError);
    expect(rebuilt).toMatchObject({ code: 'HUB_ACCESS_DENIED', details: { reason: 'gated' } });
  });

  it('reads HF_* like huggingface_hub', () => {
    expect(hubEnvironment({}, { HF_HOME: '/h', HF_HUB_OFFLINE: 'YES', HOME: '/home/u' })).toMatchObject({
      endpoint: 'https://huggingface.co',
      offline: true,
      cacheDir: '/h/hub',
    });
    expect(hubEnvironment({}, { HF_HUB_CACHE: '/c', HF_ENDPOINT: 'https://mirror.test/', HF_HUB_OFFLINE: '0', XDG_CACHE_HOME: '/x' })).toMatchObject({
      endpoint: 'https://mirror.test',
      offline: false,
      cacheDir: '/c',
    });
    expect(hubEnvironment({}, { XDG_CACHE_HOME: '/x', HF_TOKEN_PATH: '/nonexistent' }).cacheDir).toBe('/x/huggingface/hub');
    // Options win over the environment.
    expect(
      hubEnvironment({ token: 'opt', endpoint: 'http://e.test', cacheDir: '/o' }, { HF_TOKEN: 'env', HF_ENDPOINT: 'http://x', HF_HUB_CACHE: '/c' }),
    ).toMatchObject({
      token: 'opt',
      endpoint: 'http://e.test',
      cacheDir: '/o',
    });
  });
});
