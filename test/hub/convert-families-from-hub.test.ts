import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { convertCommand } from '../../src/cli/commands/convert-commands.js';
import { convertModel } from '../../src/convert/index.js';
import { HubError, InvalidModelError, UnrecognizedCheckpointError } from '../../src/errors/index.js';
import { convertKontextCheckpoint } from '../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { makeTinyKontextCheckpoint } from '../../src/families/unipic2-kontext/convert/tiny-kontext.js';
import { VLM_FOLDER } from '../../src/families/unipic2-metaquery/convert/convert-metaquery.js';
import { makeTinyMetaquery } from '../../src/families/unipic2-metaquery/convert/tiny/make-tiny-metaquery.js';
import { convertMetaqueryModel } from '../../src/families/unipic2-metaquery/converter.js';
import { fixtureConvertOptions, manifestHashes as hashes, startHub, writePythonStyleCache, type HubFixture } from './support/hub-fixture.js';
import { readFolder } from './support/hub-server.js';

// `convertModel('hf:…')` for the UniPic-2 families against the local Hub (127.0.0.1) serving their
// make-tiny checkpoints: the family is recognised from the listing, only the files its converter
// reads are downloaded, and the manifest names every repository at its commit.
const KONTEXT = 'Skywork/UniPic2-SD3.5M-Kontext-2B';
const METAQUERY = 'Skywork/UniPic2-Metaquery-9B';
const QWEN_VL = 'Qwen/Qwen2.5-VL-7B-Instruct';

/** Files a published repository may hold that the Kontext converter must neither fetch nor see. */
const EXTRAS = new Map<string, Buffer>([
  ['README.md', Buffer.from('# UniPic2 Kontext (test copy)\n')],
  ['transformer/diffusion_pytorch_model.fp16.safetensors', Buffer.alloc(200_000, 3)],
  ['text_encoder/pytorch_model.bin', Buffer.alloc(100_000, 4)],
]);

let fixture: HubFixture;
const options = (cache: string, extra: Record<string, unknown> = {}) => fixtureConvertOptions(fixture, cache, extra);
/**
 * Paths of the files requested from `repo` (at any commit), sorted, each once: a streamed
 * safetensors file is asked for twice (its header first, the rest with a Range request).
 */
const requested = (repo: string) => [
  ...new Set(
    fixture.hub
      .fileRequests()
      .filter((request) => request.host === 'hub' && request.path.includes(`/${repo}/resolve/`))
      .map((request) => request.path.split('/resolve/')[1].split('/').slice(1).join('/'))
      .sort(),
  ),
];
/** Sorted paths, keeping the first of files with the same bytes (one blob in the cache, one download). */
const onePathPerBlob = (files: Map<string, Buffer>) => {
  const seen = new Set<string>();
  return [...files.keys()].sort().filter((path) => {
    const key = files.get(path)!.toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};
const without = (files: Map<string, Buffer>, drop: (path: string) => boolean) => new Map([...files].filter(([path]) => !drop(path)));

beforeAll(async () => {
  fixture = await startHub();
});
afterAll(async () => fixture.dispose());

describe('convert hf: for UniPic2-SD3.5M-Kontext', () => {
  let folder: string;
  let checkpoint: Map<string, Buffer>;
  beforeAll(async () => {
    folder = join(fixture.work, 'kontext-checkpoint');
    await makeTinyKontextCheckpoint(folder, { seed: 5 });
    checkpoint = await readFolder(folder);
  });

  it('recognises the diffusers repository, fetches only its sub-folders and converts what the local folder converts', async () => {
    const commit = fixture.hub.publish(KONTEXT, new Map([...checkpoint, ...EXTRAS]));
    const local = await convertKontextCheckpoint(folder, join(fixture.work, 'kontext-local'), { dtypes: ['fp32'] });

    const result = await convertModel(`hf:${KONTEXT}`, join(fixture.work, 'kontext-out'), options('kontext-cache'));
    expect(result.family).toBe('unipic2-kontext');
    expect(hashes(result.manifest)).toEqual(hashes(local.manifest));
    expect(result.manifest.source).toBe(`converted from hf:${KONTEXT}@${commit}`);
    expect(result.fetched).toEqual([expect.objectContaining({ repo: KONTEXT, revision: 'main', commit })]);
    // Everything make-tiny wrote except model_index.json (the converter reads the sub-folders);
    // tokenizer_2's vocabulary is byte-identical to tokenizer's, so its blob is fetched once.
    expect(requested(KONTEXT)).toEqual(onePathPerBlob(without(checkpoint, (path) => path === 'model_index.json')));

    // Offline (HF_HUB_OFFLINE) the cached ref and listing recognise the family again: no request at all.
    const before = fixture.hub.requests.length;
    const again = await convertModel(`hf:${KONTEXT}`, join(fixture.work, 'kontext-offline'), options('kontext-cache', { offline: true }));
    expect(fixture.hub.requests.length).toBe(before);
    expect(hashes(again.manifest)).toEqual(hashes(local.manifest));
  });

  it('a cache Python filled with the whole repository (variants, pickles) converts from exactly the selected files', async () => {
    const commit = fixture.hub.publish('someone/kontext-python', new Map([...checkpoint, ...EXTRAS]));
    const cacheDir = join(fixture.work, 'kontext-python-cache');
    await writePythonStyleCache(cacheDir, 'someone/kontext-python', commit, new Map([...checkpoint, ...EXTRAS]));
    // The converter, pointed at the snapshot folder itself, refuses the variant (or the pickle).
    const snapshot = join(cacheDir, 'models--someone--kontext-python', 'snapshots', commit);
    await expect(convertKontextCheckpoint(snapshot, join(fixture.work, 'kontext-python-direct'))).rejects.toThrow(/more than one set of weights|pickle/);
    const result = await convertModel('hf:someone/kontext-python', join(fixture.work, 'kontext-python-out'), {
      ...options('kontext-python-cache'),
      offline: true,
    });
    expect(result.manifest.source).toBe(`converted from hf:someone/kontext-python@${commit}`);
    expect(requested('someone/kontext-python')).toEqual([]);
  });

  it('the CLI: `unipic convert hf:<repo> <out>` with HF_ENDPOINT / HF_HUB_CACHE, the family recognised', async () => {
    const commit = fixture.hub.publish('someone/kontext-cli', checkpoint);
    vi.stubEnv('HF_ENDPOINT', fixture.endpoint);
    vi.stubEnv('HF_HUB_CACHE', join(fixture.work, 'kontext-cli-cache'));
    vi.stubEnv('UNIPIC_CACHE_DIR', join(fixture.work, 'kontext-cli-unipic'));
    const out = join(fixture.work, 'kontext-cli-out');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await convertCommand(['hf:someone/kontext-cli', out], new AbortController().signal);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      vi.unstubAllEnvs();
    }
    const manifest = JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8'));
    expect(manifest).toMatchObject({ family: 'unipic2-kontext', source: `converted from hf:someone/kontext-cli@${commit}` });

    // --vlm is MetaQuery's: on a Kontext repository it is refused, not ignored.
    vi.stubEnv('HF_ENDPOINT', fixture.endpoint);
    vi.stubEnv('HF_HUB_CACHE', join(fixture.work, 'kontext-cli-cache'));
    const refused = await convertCommand(['hf:someone/kontext-cli', join(fixture.work, 'kontext-cli-vlm'), '--vlm', `hf:${QWEN_VL}`], new AbortController().signal)
      .catch((error: unknown) => error)
      .finally(() => vi.unstubAllEnvs());
    expect(refused).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['conditioner/config.json'] } });
  });

  it('a repository missing a component is refused before any file is downloaded', async () => {
    fixture.hub.publish(
      'someone/kontext-no-vae-weights',
      without(checkpoint, (path) => path.startsWith('vae/diffusion_pytorch_model')),
    );
    const failure = await convertModel('hf:someone/kontext-no-vae-weights', join(fixture.work, 'kontext-broken'), {
      ...options('kontext-broken-cache'),
      family: 'unipic2-kontext',
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HubError);
    expect(failure).toMatchObject({ code: 'HUB_ENTRY_NOT_FOUND', details: { missing: ['vae/diffusion_pytorch_model.safetensors'] } });
    expect(requested('someone/kontext-no-vae-weights')).toEqual([]);

    fixture.hub.publish('someone/kontext-two-sets', new Map([...checkpoint, ['vae/model.safetensors', Buffer.alloc(10)]]));
    const ambiguous = await convertModel('hf:someone/kontext-two-sets', join(fixture.work, 'kontext-two'), options('kontext-two-cache')).catch(
      (error: unknown) => error,
    );
    expect(ambiguous).toBeInstanceOf(InvalidModelError);
    expect((ambiguous as Error).message).toContain('more than one set of weights');
    expect(requested('someone/kontext-two-sets')).toEqual([]);
  });
});

describe('convert hf: for UniPic2-MetaQuery (Skywork repository + Qwen2.5-VL repository)', () => {
  let folder: string;
  let skywork: Map<string, Buffer>;
  let vlm: Map<string, Buffer>;
  let local: Map<string, string>;
  let skyworkCommit: string;
  let qwenCommit: string;

  beforeAll(async () => {
    folder = join(fixture.work, 'mq-checkpoint');
    await makeTinyMetaquery(folder, { seed: 1 });
    const files = await readFolder(folder);
    skywork = without(files, (path) => path.startsWith(`${VLM_FOLDER}/`));
    skywork.set('README.md', Buffer.from('# UniPic2 MetaQuery (test copy)\n'));
    vlm = new Map([...files].filter(([path]) => path.startsWith(`${VLM_FOLDER}/`)).map(([path, bytes]) => [path.slice(VLM_FOLDER.length + 1), bytes]));
    local = hashes((await convertMetaqueryModel(folder, join(fixture.work, 'mq-local'), { dtypes: ['fp32'] })).manifest);
    skyworkCommit = fixture.hub.publish(METAQUERY, skywork);
    qwenCommit = fixture.hub.publish(QWEN_VL, vlm);
  });

  it('without --vlm, takes Qwen2.5-VL from Qwen/Qwen2.5-VL-7B-Instruct when the Skywork repository lacks it; both commits are recorded', async () => {
    const result = await convertModel(`hf:${METAQUERY}`, join(fixture.work, 'mq-out'), options('mq-cache'));
    expect(result.family).toBe('unipic2-metaquery');
    expect(hashes(result.manifest)).toEqual(local);
    expect(result.manifest.source).toBe(`hf:${METAQUERY}@${skyworkCommit} with hf:${QWEN_VL}@${qwenCommit}`);
    expect(result.fetched?.map((snapshot) => [snapshot.repo, snapshot.commit])).toEqual([
      [METAQUERY, skyworkCommit],
      [QWEN_VL, qwenCommit],
    ]);
    // Skywork: the conditioner and the sampler's transformer, VAE and scheduler (no README); Qwen: all of it.
    expect(requested(METAQUERY)).toEqual([...skywork.keys()].filter((path) => /^(conditioner|transformer|vae|scheduler)\//.test(path)).sort());
    expect(Object.keys(result.manifest.graphs)).toContain('transformer');
    // chat_template.json is not read: the template is taken from tokenizer_config.json.
    expect(requested(QWEN_VL)).toEqual([...vlm.keys()].filter((path) => path !== 'chat_template.json').sort());
  });

  it('--vlm hf:… names another repository, revision and folder', async () => {
    const copy = new Map([...vlm].map(([path, bytes]) => [`weights/${path}`, bytes]));
    fixture.hub.publish('someone/vl-copy', copy, { branch: 'v1' });
    const result = await convertModel(`hf:${METAQUERY}`, join(fixture.work, 'mq-vlm-out'), {
      ...options('mq-vlm-cache'),
      family: 'unipic2-metaquery',
      vlm: 'hf:someone/vl-copy@v1/weights',
    });
    expect(hashes(result.manifest)).toEqual(local);
    expect(result.fetched?.map((snapshot) => [snapshot.repo, snapshot.revision])).toEqual([
      [METAQUERY, 'main'],
      ['someone/vl-copy', 'v1'],
    ]);
  });

  it('--vlm <local folder> fetches the Skywork side only', async () => {
    const before = requested(QWEN_VL).length;
    const result = await convertModel(`hf:${METAQUERY}`, join(fixture.work, 'mq-local-vlm-out'), {
      ...options('mq-local-vlm-cache'),
      vlm: join(folder, VLM_FOLDER),
    });
    expect(hashes(result.manifest)).toEqual(local);
    expect(result.fetched?.map((snapshot) => snapshot.repo)).toEqual([METAQUERY]);
    expect(requested(QWEN_VL).length).toBe(before);
  });

  it('a Skywork repository that carries Qwen2.5-VL-7B-Instruct/ needs no second repository', async () => {
    const files = await readFolder(folder);
    fixture.hub.publish('someone/mq-bundled', files);
    const before = requested(QWEN_VL).length;
    const result = await convertModel('hf:someone/mq-bundled', join(fixture.work, 'mq-bundled-out'), options('mq-bundled-cache'));
    expect(hashes(result.manifest)).toEqual(local);
    expect(result.fetched?.map((snapshot) => snapshot.repo)).toEqual(['someone/mq-bundled']);
    expect(requested(QWEN_VL).length).toBe(before);
  });
});

describe('recognising the family of an hf: repository', () => {
  it('a repository no family recognises, or two recognise, is an UnrecognizedCheckpointError naming them', async () => {
    fixture.hub.publish('someone/readme-only', new Map([['README.md', Buffer.from('nothing')]]));
    const none = await convertModel('hf:someone/readme-only', join(fixture.work, 'none-out'), options('none-cache')).catch((error: unknown) => error);
    expect(none).toBeInstanceOf(UnrecognizedCheckpointError);
    expect(none).toMatchObject({ details: { families: expect.arrayContaining(['unipic1', 'unipic2-kontext', 'unipic2-metaquery']) } });

    const both = new Map<string, Buffer>([
      ['kl16.ckpt', Buffer.alloc(10)],
      ['pytorch_model.bin', Buffer.alloc(10)],
      ['conditioner/config.json', Buffer.from('{}')],
    ]);
    fixture.hub.publish('someone/ambiguous', both);
    const ambiguous = await convertModel('hf:someone/ambiguous', join(fixture.work, 'ambiguous-out'), options('ambiguous-cache')).catch((error: unknown) => error);
    expect(ambiguous).toBeInstanceOf(UnrecognizedCheckpointError);
    expect(ambiguous).toMatchObject({ details: { families: ['unipic1', 'unipic2-metaquery'] } });
    expect((ambiguous as Error).message).toContain('--family');
    expect(requested('someone/ambiguous')).toEqual([]);
  });
});
