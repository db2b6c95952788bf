import { lstat, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, type ConvertOptions } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { uniPic1HubCheckpoint } from '../../src/families/unipic1/convert/hub-files.js';
import { openCheckpoint } from '../../src/families/unipic1/convert/open-checkpoint.js';
import { writeTorchCheckpoint } from '../../src/convert/writers/torch-checkpoint-writer.js';
import { encodeSafetensors } from '../../src/formats/safetensors-encoder.js';
import { IntegrityError, ModelNotFoundError } from '../../src/errors/index.js';
import { fetchHubFiles, type FetchHubFilesOptions } from '../../src/node/hf-cache/fetch-hub-files.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants } from '../sources/support/fixture.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { errorText, FAST_NETWORK, NOT_NEEDED, REPO, startHub, tinyRepoFiles, writePythonStyleCache, type HubFixture } from './support/hub-fixture.js';
import { gitSha1, isLfs, sha256 } from './support/hub-server.js';

// `convertCheckpoint('hf:…')` against a local Hub on 127.0.0.1 serving the tiny UniPic-1 in the
// official layout (make-tiny), LFS files redirected to a CDN on a second origin.
const CONVERT = { dtypes: ['fp32'], resolutions: [64] } as const satisfies ConvertOptions;

let fixture: HubFixture;
let files: Map<string, Buffer>;
let needed: string[];
let commit: string;
let reference: Map<string, string>;

const options = (extra: Partial<ConvertOptions> & { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}): ConvertOptions => {
  const { cacheDir, env, ...rest } = extra;
  return {
    ...CONVERT,
    hub: { endpoint: fixture.endpoint, token: fixture.hub.token, cacheDir: cacheDir ?? fixture.cacheDir },
    network: FAST_NETWORK,
    environment: { UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache'), ...env },
    ...rest,
  };
};

/** Only the download half (what convert fetches), for tests about transfers and the cache. */
const fetchOnly = (cacheDir: string, extra: Partial<FetchHubFilesOptions> = {}, revision = 'main') =>
  fetchHubFiles(uniPic1HubCheckpoint.requests({ repo: REPO, revision, subfolder: '' }, false, {}), {
    hub: { endpoint: fixture.endpoint, token: fixture.hub.token, cacheDir },
    network: FAST_NETWORK,
    environment: { UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache') },
    ...extra,
  });

const repoFolder = (root: string) => join(root, `models--${REPO.replace('/', '--')}`);
const filesOf = (manifest: { files: { path: string; sha256: string }[] }) => new Map(manifest.files.map((file) => [file.path, file.sha256]));

beforeAll(async () => {
  fixture = await startHub();
  ({ files, needed } = await tinyRepoFiles());
  commit = fixture.hub.publish(REPO, files, { gated: true });
  // The same checkpoint converted from its local folder: what the Hub path must reproduce.
  const local = await convertCheckpoint(await tinyCheckpointDir(), join(fixture.work, 'local'), CONVERT);
  reference = filesOf(local.manifest);
});
afterAll(async () => fixture.dispose());

describe('convert hf:', () => {
  it('downloads only what the converter needs into the HF cache layout and converts it, pinned to the commit', async () => {
    const events: LoadProgressEvent[] = [];
    const out = join(fixture.work, 'from-hub');
    const summary = await convertCheckpoint(`hf:${REPO}`, out, options({ onDownloadProgress: (event) => events.push(event) }));

    // The same graphs, tables and tokenizer as converting the local folder; the commit is recorded.
    expect(filesOf(summary.manifest)).toEqual(reference);
    expect(summary.manifest.source).toBe(`converted from hf:${REPO}@${commit} (kl16.ckpt, pytorch_model.bin)`);
    const written = JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8'));
    expect(written.source).toContain(`@${commit}`);
    expect(summary.fetched).toEqual([
      expect.objectContaining({ repo: REPO, revision: 'main', commit, directory: join(repoFolder(fixture.cacheDir), 'snapshots', commit) }),
    ]);

    // Only the needed files were requested; SigLIP, README, trainer state, Qwen weights never.
    const requested = fixture.hub
      .fileRequests()
      .filter((r) => r.host === 'hub')
      .map((r) => r.path.split(`/resolve/${commit}/`)[1]);
    expect(requested.sort()).toEqual(needed);
    for (const path of NOT_NEEDED.keys()) expect(requested).not.toContain(path);
    // The token went to the Hub's host with every request, and never to the CDN.
    for (const request of fixture.hub.requests) expect(request.authorization).toBe(`Bearer ${fixture.hub.token}`);
    for (const request of fixture.hub.cdn.requests) expect(request.authorization).toBeUndefined();
    expect(fixture.hub.cdn.requests.length).toBeGreaterThan(0);

    // Byte-accurate progress: total = the needed files' sizes, known up front; each file completes.
    const total = needed.reduce((sum, path) => sum + files.get(path)!.byteLength, 0);
    expectProgressInvariants(events, total);
    for (const path of needed) {
      const last = events.filter((event) => event.file === `${REPO}/${path}`).at(-1)!;
      expect(last).toMatchObject({ phase: 'download', fileLoaded: files.get(path)!.byteLength, fileTotal: files.get(path)!.byteLength });
    }

    // Python's layout: refs/main, blobs named by ETag (LFS sha256 or git sha1), relative links.
    const folder = repoFolder(fixture.cacheDir);
    expect(await readFile(join(folder, 'refs', 'main'), 'utf8')).toBe(commit);
    for (const path of needed) {
      const bytes = files.get(path)!;
      const blobId = isLfs(path, bytes) ? sha256(bytes) : gitSha1(bytes);
      const link = join(folder, 'snapshots', commit, ...path.split('/'));
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe(`${'../'.repeat(path.split('/').length + 1)}blobs/${blobId}`);
      expect(sha256(await readFile(link))).toBe(sha256(bytes));
    }
    expect((await readdir(join(folder, 'blobs'))).filter((name) => name.endsWith('.incomplete'))).toEqual([]);
  });

  it('resumes an interrupted download from its .incomplete blob with a Range request', async () => {
    const cacheDir = join(fixture.work, 'resume-cache');
    const big = files.get('pytorch_model.bin')!;
    const cdnPath = `lfs/${sha256(big)}`;
    fixture.hub.cdn.addFault(cdnPath, { kind: 'close-after', bytes: 2_000_000, times: 1 });
    const failure = await fetchOnly(cacheDir, { network: { ...FAST_NETWORK, retries: 0 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    const incomplete = join(repoFolder(cacheDir), 'blobs', `${sha256(big)}.incomplete`);
    const partial = (await stat(incomplete)).size;
    // The server closes after 2 MB; a reset connection may drop bytes still in flight, so only
    // "some, not all" is a state this test can rely on.
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(big.byteLength);
    // Nothing is published under the blob's name or in the snapshot before it is verified.
    await expect(stat(join(repoFolder(cacheDir), 'blobs', sha256(big)))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(repoFolder(cacheDir), 'snapshots', commit, 'pytorch_model.bin'))).rejects.toMatchObject({ code: 'ENOENT' });

    const before = fixture.hub.cdn.requestsFor(cdnPath).length;
    const events: LoadProgressEvent[] = [];
    await fetchOnly(cacheDir, { onProgress: (event) => events.push(event) });
    const resumed = fixture.hub.cdn.requestsFor(cdnPath).slice(before);
    expect(resumed).toEqual([expect.objectContaining({ range: `bytes=${partial}-`, status: 206 })]);
    await expect(stat(incomplete)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(sha256(await readFile(join(repoFolder(cacheDir), 'snapshots', commit, 'pytorch_model.bin')))).toBe(sha256(big));
    expectProgressInvariants(
      events,
      needed.reduce((sum, path) => sum + files.get(path)!.byteLength, 0),
    );
  });

  it('a cut in the middle of a file is resumed within the same run', async () => {
    const cacheDir = join(fixture.work, 'cut-cache');
    const vae = files.get('kl16.ckpt')!;
    const cdnPath = `lfs/${sha256(vae)}`;
    fixture.hub.cdn.addFault(cdnPath, { kind: 'close-after', bytes: 500_000, times: 1 });
    const before = fixture.hub.cdn.requestsFor(cdnPath).length;
    await fetchOnly(cacheDir);
    const transfers = fixture.hub.cdn.requestsFor(cdnPath).slice(before);
    expect(transfers).toHaveLength(2);
    expect(transfers[1].range).toMatch(/^bytes=\d+-$/);
    expect(sha256(await readFile(join(repoFolder(cacheDir), 'snapshots', commit, 'kl16.ckpt')))).toBe(sha256(vae));
  });

  it('a conversion cut mid-download writes nothing, a wrong hash is refused before any output, and the next run resumes', async () => {
    const cacheDir = join(fixture.work, 'convert-resume-cache');
    const big = files.get('pytorch_model.bin')!;
    const cdnPath = `lfs/${sha256(big)}`;
    const out = join(fixture.work, 'convert-resume-out');
    const incomplete = join(repoFolder(cacheDir), 'blobs', `${sha256(big)}.incomplete`);

    fixture.hub.cdn.addFault(cdnPath, { kind: 'close-after', bytes: 1_500_000, times: 1 });
    const cut = await convertCheckpoint(`hf:${REPO}`, out, options({ cacheDir, network: { ...FAST_NETWORK, retries: 0 } })).catch((error: unknown) => error);
    expect(cut).toBeInstanceOf(ModelNotFoundError);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    const kept = (await stat(incomplete)).size;
    expect(kept).toBeGreaterThan(0);

    // The rest of the file arrives with other bytes: the hash check fails before the converter runs.
    fixture.hub.cdn.addFault(cdnPath, { kind: 'corrupt', times: 1 });
    const corrupt = await convertCheckpoint(`hf:${REPO}`, out, options({ cacheDir })).catch((error: unknown) => error);
    expect(corrupt).toBeInstanceOf(IntegrityError);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(incomplete)).rejects.toMatchObject({ code: 'ENOENT' });

    // Cut again, then a clean run resumes from the kept bytes and converts the same model.
    fixture.hub.cdn.addFault(cdnPath, { kind: 'close-after', bytes: 1_500_000, times: 1 });
    await convertCheckpoint(`hf:${REPO}`, out, options({ cacheDir, network: { ...FAST_NETWORK, retries: 0 } })).catch(() => undefined);
    const partial = (await stat(incomplete)).size;
    const before = fixture.hub.cdn.requestsFor(cdnPath).length;
    const summary = await convertCheckpoint(`hf:${REPO}`, out, options({ cacheDir }));
    expect(fixture.hub.cdn.requestsFor(cdnPath).slice(before)).toEqual([expect.objectContaining({ range: `bytes=${partial}-`, status: 206 })]);
    expect(filesOf(summary.manifest)).toEqual(reference);
  });

  it('uses a cache Python filled without any file request, and pinned or offline without any request at all', async () => {
    const cacheDir = join(fixture.work, 'python-cache');
    await writePythonStyleCache(cacheDir, REPO, commit, new Map(needed.map((path) => [path, files.get(path)!])));
    const hubBefore = fixture.hub.requests.length;
    const cdnBefore = fixture.hub.cdn.requests.length;
    const events: LoadProgressEvent[] = [];
    const online = await convertCheckpoint(`hf:${REPO}`, join(fixture.work, 'cached-out'), options({ cacheDir, onDownloadProgress: (e) => events.push(e) }));
    expect(filesOf(online.manifest)).toEqual(reference);
    // One listing request pins main to its commit; no file is fetched.
    expect(fixture.hub.requests.slice(hubBefore).map((request) => request.path)).toEqual([`/api/models/${REPO}/revision/main`]);
    expect(fixture.hub.cdn.requests.length).toBe(cdnBefore);
    expect(new Set(events.map((event) => event.phase))).toEqual(new Set(['cache-read']));

    // Pinned to a commit whose listing is recorded: nothing to ask the Hub, online or not.
    const pinnedBefore = fixture.hub.allRequests().length;
    const pinned = await fetchOnly(cacheDir, {}, commit);
    expect(pinned[0].commit).toBe(commit);
    expect(fixture.hub.allRequests().length).toBe(pinnedBefore);

    const offlineBefore = fixture.hub.allRequests().length;
    const offline = await convertCheckpoint(`hf:${REPO}`, join(fixture.work, 'offline-out'), options({ cacheDir, env: { HF_HUB_OFFLINE: '1' } }));
    expect(filesOf(offline.manifest)).toEqual(reference);
    expect(fixture.hub.allRequests().length).toBe(offlineBefore);
  });

  it('a blob Python wrote is hashed once, then trusted by its record; a corrupt one is downloaded again', async () => {
    const cacheDir = join(fixture.work, 'corrupt-cache');
    const vae = files.get('kl16.ckpt')!;
    const damaged = Buffer.from(vae);
    damaged[damaged.length >> 1] ^= 0xff;
    await writePythonStyleCache(cacheDir, REPO, commit, new Map(needed.map((path) => [path, path === 'kl16.ckpt' ? damaged : files.get(path)!])));
    const cdnPath = `lfs/${sha256(vae)}`;
    const before = fixture.hub.cdn.requestsFor(cdnPath).length;
    const events: LoadProgressEvent[] = [];
    await fetchOnly(cacheDir, { onProgress: (event) => events.push(event) });
    expect(fixture.hub.cdn.requestsFor(cdnPath).length).toBe(before + 1);
    expect(sha256(await readFile(join(repoFolder(cacheDir), 'snapshots', commit, 'kl16.ckpt')))).toBe(sha256(vae));
    // The other files were read and hashed (cache-read bytes), not downloaded.
    const pytorch = events.filter((event) => event.file === `${REPO}/pytorch_model.bin`);
    expect(new Set(pytorch.map((event) => event.phase))).toEqual(new Set(['cache-read']));
    // Hashed in 4 MiB reads: 5.4 MB is two reads, each reported, then the completion.
    expect(pytorch.length).toBeGreaterThanOrEqual(3);

    // Second run: every blob has its record, so nothing is read again: the whole file at once, then the completion.
    const again: LoadProgressEvent[] = [];
    await fetchOnly(cacheDir, { onProgress: (event) => again.push(event) });
    expect(again.filter((event) => event.file === `${REPO}/pytorch_model.bin`)).toHaveLength(2);
    expect(fixture.hub.cdn.requestsFor(cdnPath).length).toBe(before + 1);
  });

  it("fetches the Qwen folder's weights only when pytorch_model.bin lacks llm.* weights, and converts the same model", async () => {
    // The tiny checkpoint re-split: llm.* in Qwen2.5-1.5B-Instruct/model.safetensors, the rest in pytorch_model.bin.
    const checkpoint = await openCheckpoint(await tinyCheckpointDir());
    const llm: { name: string; dtype: 'float32'; shape: number[]; data: Uint8Array }[] = [];
    const rest: [string, { dtype: 'float32'; shape: number[]; data: Uint8Array }][] = [];
    try {
      for (const [name, tensor] of checkpoint.tensors) {
        if (name.startsWith('vae.') || name === 'llm.lm_head.weight') continue;
        const data = await checkpoint.readBytes(name);
        if (name.startsWith('llm.')) llm.push({ name: name.slice(4), dtype: 'float32', shape: [...tensor.shape], data });
        else rest.push([name, { dtype: 'float32', shape: [...tensor.shape], data }]);
      }
    } finally {
      await checkpoint.close();
    }
    const bin = join(fixture.work, 'split-pytorch_model.bin');
    await writeTorchCheckpoint(bin, rest);
    const split = new Map(files);
    split.set('pytorch_model.bin', await readFile(bin));
    split.set('Qwen2.5-1.5B-Instruct/model.safetensors', Buffer.from(encodeSafetensors(llm)));
    const repo = 'someone/split-unipic';
    const splitCommit = fixture.hub.publish(repo, split);

    const summary = await convertCheckpoint(`hf:${repo}`, join(fixture.work, 'split-out'), options({ cacheDir: join(fixture.work, 'split-cache') }));
    expect(filesOf(summary.manifest)).toEqual(reference);
    expect(summary.manifest.source).toContain(`hf:${repo}@${splitCommit} (`);
    expect(summary.manifest.source).toContain('Qwen2.5-1.5B-Instruct/model.safetensors');
    const requested = fixture.hub.requests.filter((r) => r.path.includes(`/${repo}/resolve/`)).map((r) => r.path.split(`/resolve/${splitCommit}/`)[1]);
    expect(requested).toContain('Qwen2.5-1.5B-Instruct/model.safetensors');
    expect(requested).not.toContain('README.md');
    expect(requested.filter((path) => path.startsWith('siglip2'))).toEqual([]);
  });

  it('offline with an incomplete cache names every missing file and makes no request', async () => {
    const cacheDir = join(fixture.work, 'partial-cache');
    await fetchOnly(cacheDir);
    // Files lost since (a cache cleaned by hand): the recorded listing still says they are needed.
    await rm(join(repoFolder(cacheDir), 'snapshots', commit, 'kl16.ckpt'));
    await rm(join(repoFolder(cacheDir), 'snapshots', commit, 'Qwen2.5-1.5B-Instruct', 'vocab.json'));
    const before = fixture.hub.allRequests().length;
    const failure = await convertCheckpoint(`hf:${REPO}`, join(fixture.work, 'x'), options({ cacheDir, offline: true })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect(failure).toMatchObject({ details: { reason: 'offline', missing: [`${REPO}/kl16.ckpt`, `${REPO}/Qwen2.5-1.5B-Instruct/vocab.json`] } });
    expect((failure as ModelNotFoundError).message).toContain(`${REPO}/kl16.ckpt`);

    const empty = await convertCheckpoint(
      `hf:${REPO}`,
      join(fixture.work, 'x'),
      options({ cacheDir: join(fixture.work, 'empty'), env: { HF_HUB_OFFLINE: 'true' } }),
    ).catch((error: unknown) => error);
    expect(empty).toMatchObject({ code: 'MODEL_NOT_FOUND', details: { reason: 'offline' } });
    expect((empty as Error).message).toContain('refs/main');
    expect(fixture.hub.allRequests().length).toBe(before);
    for (const error of [failure, empty]) expect(errorText(error)).not.toContain(fixture.hub.token);
  });
});
