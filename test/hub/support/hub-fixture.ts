import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { UniPicError } from '../../../src/errors/unipic-error.js';
import { tinyCheckpointDir } from '../../support/tiny-model.js';
import { gitSha1, isLfs, readFolder, sha256 } from './hub-server.js';
import { RemoteHubServer } from './remote-hub-server.js';

export const REPO = 'Skywork/Skywork-UniPic-1.5B';

/** Files the official repository has that the converter must never download. */
export const NOT_NEEDED = new Map<string, Buffer>([
  ['README.md', Buffer.from('# Skywork UniPic (test copy)\n')],
  ['siglip2-so400m-patch16-512/model.safetensors', Buffer.alloc(300_000, 7)],
  ['siglip2-so400m-patch16-512/config.json', Buffer.from('{}')],
  ['Qwen2.5-1.5B-Instruct/model.safetensors', Buffer.alloc(200_000, 9)],
  ['optimizer.pt', Buffer.alloc(1000, 1)],
]);

/** The tiny UniPic-1 checkpoint in the official layout, plus files the converter does not need. */
export async function tinyRepoFiles(): Promise<{ files: Map<string, Buffer>; needed: string[] }> {
  const checkpoint = await readFolder(await tinyCheckpointDir());
  const files = new Map([...checkpoint, ...NOT_NEEDED]);
  return { files, needed: [...checkpoint.keys()].sort() };
}

/** Retry quickly so fault tests take milliseconds. */
export const FAST_NETWORK = { retryDelayMs: 1, maxRetryDelayMs: 5 } as const;

export interface HubFixture {
  readonly hub: RemoteHubServer;
  readonly endpoint: string;
  readonly cacheDir: string;
  readonly work: string;
  dispose(): Promise<void>;
}

/** fp32 conversion options against the fixture's Hub, with its own HF and unipic caches named `cache`. */
export function fixtureConvertOptions(fixture: HubFixture, cache: string, extra: Record<string, unknown> = {}) {
  return {
    dtypes: ['fp32'] as const,
    hub: { endpoint: fixture.endpoint, cacheDir: join(fixture.work, cache) },
    network: FAST_NETWORK,
    environment: { UNIPIC_CACHE_DIR: join(fixture.work, `${cache}-unipic`) },
    ...extra,
  };
}

/** A converted folder's files by path, as their sha256: equal maps mean equal conversions. */
export const manifestHashes = (manifest: { files: readonly { path: string; sha256: string }[] }) => new Map(manifest.files.map((file) => [file.path, file.sha256]));

export async function startHub(): Promise<HubFixture> {
  const hub = new RemoteHubServer();
  const endpoint = await hub.start();
  const work = await mkdtemp(join(tmpdir(), 'unipic-hub-'));
  const cacheDir = join(work, 'hf-cache');
  return {
    hub,
    endpoint,
    cacheDir,
    work,
    dispose: async () => {
      await hub.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/**
 * What Python's huggingface_hub leaves after `hf_hub_download` of `files` at `commit` of `repo`:
 * blobs named by ETag, relative snapshot links, `refs/<branch>`.
 */
export async function writePythonStyleCache(root: string, repo: string, commit: string, files: Map<string, Buffer>, branch = 'main'): Promise<void> {
  const folder = join(root, `models--${repo.replace('/', '--')}`);
  await mkdir(join(folder, 'refs'), { recursive: true });
  await writeFile(join(folder, 'refs', branch), commit);
  for (const [path, bytes] of files) {
    const blobId = isLfs(path, bytes) ? sha256(bytes) : gitSha1(bytes);
    const blob = join(folder, 'blobs', blobId);
    await mkdir(dirname(blob), { recursive: true });
    await writeFile(blob, bytes);
    const link = join(folder, 'snapshots', commit, ...path.split('/'));
    await mkdir(dirname(link), { recursive: true });
    await symlink(relative(dirname(link), blob), link);
  }
}

/** Every place a secret could leak from an error: message, stack, details, serialised form, causes. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', String(current));
      const json = (current as UniPicError).toJSON?.();
      if (json) parts.push(JSON.stringify(json));
      const details = (current as UniPicError).details;
      if (details !== undefined) parts.push(JSON.stringify(details));
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
      break;
    }
  }
  return parts.join('\n');
}
