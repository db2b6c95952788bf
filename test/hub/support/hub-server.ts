import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { TestServer } from '../../sources/support/test-server.js';

/** A request as the Hub (or its CDN) saw it. */
export interface HubRequest {
  readonly host: 'hub' | 'cdn';
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly authorization?: string;
}

interface Repo {
  readonly gated: boolean;
  readonly refs: Map<string, string>;
  readonly commits: Map<string, Map<string, Buffer>>;
}

/** Files at least this big (or with a weight suffix) are served as LFS objects through the CDN. */
const LFS_MIN_BYTES = 1024 * 1024;
const LFS_SUFFIX = /\.(bin|ckpt|safetensors|onnx|data|pt|pth)$/;

export function gitSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isLfs(path: string, bytes: Buffer): boolean {
  return bytes.byteLength >= LFS_MIN_BYTES || LFS_SUFFIX.test(path);
}

/**
 * The Hugging Face Hub as far as unipic uses it, on 127.0.0.1: `/api/models/{repo}/revision/{rev}`
 * (with `?blobs=true` sizes, blob ids and LFS sha256), `/{repo}/resolve/{rev}/{path}` (small files
 * served directly with their git ETag; LFS files redirected with `X-Linked-Etag`/`X-Linked-Size`
 * to a CDN on a second origin, the sources tests' TestServer, with Range and fault injection),
 * refusals with the Hub's `X-Error-Code`, and gated repositories that need `Bearer <token>`.
 */
export class HubServer {
  readonly cdn = new TestServer();
  readonly requests: HubRequest[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly server: Server;
  private port = 0;
  /** The token a gated repository accepts. */
  token = `hf_${randomBytes(12).toString('hex')}`;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.cdn.onRequest = (_request, response) => setCorsHeaders(response);
  }

  async start(): Promise<string> {
    await this.cdn.start();
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Publish `files` as a new commit of `repo` on `branch`; returns the commit id. */
  publish(repo: string, files: Map<string, Buffer>, options: { branch?: string; gated?: boolean } = {}): string {
    const existing = this.repos.get(repo);
    const entry: Repo = existing ?? { gated: options.gated ?? false, refs: new Map(), commits: new Map() };
    this.repos.set(repo, entry);
    const commit = randomBytes(20).toString('hex');
    entry.commits.set(commit, new Map(files));
    entry.refs.set(options.branch ?? 'main', commit);
    for (const [path, bytes] of files) if (isLfs(path, bytes)) this.cdn.setFile(`lfs/${sha256(bytes)}`, bytes);
    return commit;
  }

  /** Requests for a repository file (resolve on the Hub, plus its CDN transfers). */
  fileRequests(): HubRequest[] {
    return this.requests.filter((request) => request.host === 'cdn' || request.path.includes('/resolve/'));
  }

  apiRequests(): HubRequest[] {
    return this.requests.filter((request) => request.path.startsWith('/api/'));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.cdn.close();
  }

  /** Every request either origin received, CDN ones included, in arrival order per origin. */
  allRequests(): HubRequest[] {
    const cdn = this.cdn.requests.map((request) => ({
      host: 'cdn' as const,
      method: 'GET',
      path: request.path,
      ...(request.range ? { range: request.range } : {}),
      ...(request.authorization ? { authorization: request.authorization } : {}),
    }));
    return [...this.requests, ...cdn];
  }

  private refuse(response: ServerResponse, status: number, code: string): void {
    response.writeHead(status, { 'x-error-code': code, 'x-error-message': `${code} (test hub)`, 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: code }));
  }

  /**
   * The repository and commit a request may see, or a refusal already sent. As on the Hub, a
   * gated repository's listing is public; its files need a token of an account with access.
   */
  private lookup(
    request: IncomingMessage,
    response: ServerResponse,
    repoName: string,
    revision: string,
    forFile: boolean,
  ): { repo: Repo; commit: string } | undefined {
    const repo = this.repos.get(repoName);
    const authorization = request.headers.authorization;
    if (!repo) {
      this.refuse(response, authorization ? 404 : 401, 'RepoNotFound');
      return undefined;
    }
    if (repo.gated && forFile && authorization !== `Bearer ${this.token}`) {
      this.refuse(response, authorization ? 403 : 401, 'GatedRepo');
      return undefined;
    }
    const commit = repo.commits.has(revision) ? revision : repo.refs.get(revision);
    if (!commit) {
      this.refuse(response, 404, 'RevisionNotFound');
      return undefined;
    }
    return { repo, commit };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://x');
    // Browsers call the Hub cross-origin, as they call huggingface.co.
    setCorsHeaders(response);
    if (request.method === 'OPTIONS') {
      response.writeHead(204);
      response.end();
      return;
    }
    this.requests.push({
      host: 'hub',
      method: request.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      ...(request.headers.range ? { range: request.headers.range } : {}),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    });
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (segments[0] === 'api' && segments[1] === 'models' && segments[4] === 'revision') {
      const found = this.lookup(request, response, `${segments[2]}/${segments[3]}`, segments.slice(5).join('/'), false);
      if (!found) return;
      const files = found.repo.commits.get(found.commit)!;
      const blobs = url.searchParams.get('blobs') === 'true';
      const siblings = [...files].map(([path, bytes]) => ({
        rfilename: path,
        ...(blobs
          ? {
              size: bytes.byteLength,
              blobId: gitSha1(
                isLfs(path, bytes) ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.byteLength}\n`) : bytes,
              ),
              ...(isLfs(path, bytes) ? { lfs: { sha256: sha256(bytes), size: bytes.byteLength, pointerSize: 134 } } : {}),
            }
          : {}),
      }));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: `${segments[2]}/${segments[3]}`, sha: found.commit, siblings }));
      return;
    }
    if (segments[2] === 'resolve') {
      const found = this.lookup(request, response, `${segments[0]}/${segments[1]}`, segments[3], true);
      if (!found) return;
      const path = segments.slice(4).join('/');
      const bytes = found.repo.commits.get(found.commit)!.get(path);
      if (!bytes) return this.refuse(response, 404, 'EntryNotFound');
      if (isLfs(path, bytes)) {
        const hash = sha256(bytes);
        response.writeHead(302, {
          location: this.cdn.url(`/model/lfs/${hash}?X-Amz-Signature=${randomBytes(8).toString('hex')}`),
          'x-linked-etag': `"${hash}"`,
          'x-linked-size': String(bytes.byteLength),
          'x-repo-commit': found.commit,
          'content-length': 0,
        });
        response.end();
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
      const start = range ? Math.min(Number(range[1]), bytes.byteLength) : 0;
      response.writeHead(start > 0 ? 206 : 200, {
        etag: `"${gitSha1(bytes)}"`,
        'x-repo-commit': found.commit,
        'accept-ranges': 'bytes',
        'content-length': bytes.byteLength - start,
        ...(start > 0 ? { 'content-range': `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}` } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : bytes.subarray(start));
      return;
    }
    response.writeHead(404, { 'content-length': 0 });
    response.end();
  }
}

/** What huggingface.co answers cross-origin callers: any origin, the Authorization and Range headers, its hash headers readable. */
export function setCorsHeaders(response: ServerResponse): void {
  response.setHeader('access-control-allow-origin', '*');
  response.setHeader('access-control-allow-headers', 'authorization, range, if-range, accept');
  response.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS');
  response.setHeader(
    'access-control-expose-headers',
    'etag, content-range, content-length, x-repo-commit, x-linked-etag, x-linked-size, x-error-code, x-error-message, accept-ranges',
  );
  response.setHeader('cross-origin-resource-policy', 'cross-origin');
}

/** Every file under `folder`, by `/`-separated relative path. */
export async function readFolder(folder: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.set(relative(folder, full).split('\\').join('/'), await readFile(full));
    }
  };
  await walk(folder);
  return files;
}
