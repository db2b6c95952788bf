import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly status: number;
}

export interface StaticServerOptions {
  /** URL prefix (e.g. `/ort/`) → folder on disk. The longest matching prefix wins. */
  readonly folders?: Readonly<Record<string, string>>;
  /** Exact URL path → in-memory body (pages, generated graphs). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Send COOP/COEP so pages are cross-origin isolated (SharedArrayBuffer, wasm threads). Default true. */
  readonly isolated?: boolean;
}

export interface StaticServer {
  readonly origin: string;
  /** Every request answered, in order (to prove a second load came from the Cache API). */
  readonly requests: ServedRequest[];
  url(path: string): string;
  /** Add or replace an in-memory file. */
  setFile(path: string, body: string | Uint8Array): void;
  close(): Promise<void>;
}

/**
 * A static HTTP server on 127.0.0.1 (ephemeral port) for browser tests: folders and in-memory
 * files, single `bytes=a-b` ranges, and the COOP/COEP headers Chromium needs before it grants
 * `crossOriginIsolated` (without them ORT's wasm runs on one thread).
 */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const files = new Map<string, Buffer>();
  for (const [path, body] of Object.entries(options.files ?? {})) files.set(path, toBuffer(body));
  const folders = Object.entries(options.folders ?? {}).sort((a, b) => b[0].length - a[0].length);
  const isolated = options.isolated ?? true;
  const requests: ServedRequest[] = [];

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const requested = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const path = requested.endsWith('/') ? `${requested}index.html` : requested;
    const range = request.headers.range;
    const log = (status: number) => requests.push({ method, path: requested, status, ...(range ? { range } : {}) });
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'accept-ranges': 'bytes',
      // Same-origin resources need CORP too once COEP is require-corp.
      'cross-origin-resource-policy': 'cross-origin',
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    if (method !== 'GET' && method !== 'HEAD') {
      log(405);
      response.writeHead(405, headers).end();
      return;
    }
    const source = await locate(path);
    if (!source) {
      log(404);
      response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    let start = 0;
    let end = source.size - 1;
    let status = 200;
    if (range) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(range);
      const first = match?.[1] ? Number(match[1]) : undefined;
      const last = match?.[2] ? Number(match[2]) : undefined;
      if (!match || (first === undefined && last === undefined) || (first ?? 0) >= source.size) {
        log(416);
        response.writeHead(416, { ...headers, 'content-range': `bytes */${source.size}` }).end();
        return;
      }
      if (first === undefined) start = Math.max(0, source.size - (last as number));
      else {
        start = first;
        if (last !== undefined) end = Math.min(last, source.size - 1);
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${source.size}`;
    }
    headers['content-length'] = String(Math.max(0, end - start + 1));
    log(status);
    response.writeHead(status, headers);
    if (method === 'HEAD' || end < start) {
      response.end();
      return;
    }
    if (source.buffer) response.end(source.buffer.subarray(start, end + 1));
    else createReadStream(source.file as string, { start, end }).pipe(response);
  }

  async function locate(path: string): Promise<{ size: number; buffer?: Buffer; file?: string } | undefined> {
    const buffer = files.get(path);
    if (buffer) return { size: buffer.length, buffer };
    for (const [prefix, folder] of folders) {
      if (!path.startsWith(prefix)) continue;
      const relative = normalize(path.slice(prefix.length));
      if (relative.startsWith('..') || relative.includes(`${sep}..`)) return undefined;
      const file = join(folder, relative);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile()) return { size: info.size, file };
    }
    return undefined;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    url: (path) => `${origin}${path}`,
    setFile: (path, body) => void files.set(path, toBuffer(body)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function toBuffer(body: string | Uint8Array): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
