import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A misbehaviour injected for one path; `times` uses (default: every request). */
export type Fault = (
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string> }
  /** Send the headers and this many body bytes, then destroy the socket. */
  | { readonly kind: 'close-after'; readonly bytes: number; readonly beforeClose?: () => Promise<void> }
  /** Send the headers and this many body bytes, then send nothing more (keep the socket open). */
  | { readonly kind: 'stall-after'; readonly bytes: number }
  /** Wait before answering (less if the client leaves first: then nothing is answered or logged as status). */
  | { readonly kind: 'delay'; readonly milliseconds: number }
  /** Flip a byte in the middle of the body (same length). */
  | { readonly kind: 'corrupt' }
  | { readonly kind: 'redirect'; readonly location: string; readonly status?: number }
  /** Answer ranged requests with the whole file (a server without range support). */
  | { readonly kind: 'ignore-range' }
  /**
   * Ranged requests only (a resumed or streamed transfer): send `bytes` bytes, then nothing until
   * `path` exists (at most `timeoutMs`, default 30 s), then the rest. The log's `held` says which.
   */
  | { readonly kind: 'hold-until-exists'; readonly bytes: number; readonly path: string; readonly timeoutMs?: number }
  /** Ranged requests only: announce (Content-Length, Content-Range) and send `extra` bytes past the file's end. */
  | { readonly kind: 'grow'; readonly extra: number }
) & {
  times?: number;
  /**
   * Only ranged requests take this fault (an unranged request leaves it for the next). Default:
   * true for the kinds that only make sense on a ranged transfer (`hold-until-exists`, `grow`).
   */
  readonly rangedOnly?: boolean;
};

const RANGED_ONLY_KINDS: ReadonlySet<Fault['kind']> = new Set(['hold-until-exists', 'grow']);
const isRangedOnly = (fault: Fault) => fault.rangedOnly ?? RANGED_ONLY_KINDS.has(fault.kind);

export interface LoggedRequest {
  readonly path: string;
  readonly range?: string;
  readonly ifRange?: string;
  readonly authorization?: string;
  status?: number;
  /** A `hold-until-exists` fault: released because the path appeared, after its timeout, or the client left. */
  held?: 'released' | 'timed-out' | 'client-closed';
}

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) serving in-memory files with ETags, Range and
 * If-Range, streaming bodies in small chunks (optionally paced) so tests can cut, stall or abort
 * a transfer in the middle of a file.
 */
export class TestServer {
  readonly files = new Map<string, Buffer>();
  readonly etags = new Map<string, string>();
  readonly requests: LoggedRequest[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();
  /** Bytes per body write, and the pause between writes. */
  chunkBytes = 16 * 1024;
  chunkDelayMs = 0;
  /** Called first for every request (e.g. to add CORS headers); OPTIONS requests are then answered 204. */
  onRequest: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  private port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url('/model/');
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Serve `body` at `/model/<path>`, with a fresh ETag. */
  setFile(path: string, body: Buffer): void {
    const urlPath = `/model/${path}`;
    this.files.set(urlPath, body);
    this.etags.set(urlPath, `"${path.length}-${body.byteLength}-${Math.random().toString(36).slice(2)}"`);
  }

  addFault(path: string, fault: Fault): void {
    const urlPath = path.startsWith('/') ? path : `/model/${path}`;
    this.faults.set(urlPath, [...(this.faults.get(urlPath) ?? []), fault]);
  }

  requestsFor(path: string): LoggedRequest[] {
    const urlPath = path.startsWith('/') ? path : `/model/${path}`;
    return this.requests.filter((request) => request.path === urlPath);
  }

  async close(): Promise<void> {
    for (const response of this.open) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFaults(path: string, ranged: boolean): Fault[] {
    const list = this.faults.get(path) ?? [];
    const active = list.filter((fault) => (fault.times === undefined || fault.times > 0) && (ranged || !isRangedOnly(fault)));
    for (const fault of active) if (fault.times !== undefined) fault.times -= 1;
    return active;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.onRequest) {
      this.onRequest(request, response);
      if (request.method === 'OPTIONS') {
        response.writeHead(204);
        response.end();
        return;
      }
    }
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const logged: LoggedRequest = {
      path,
      ...(request.headers.range ? { range: request.headers.range } : {}),
      ...(request.headers['if-range'] ? { ifRange: String(request.headers['if-range']) } : {}),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    };
    this.requests.push(logged);
    this.open.add(response);
    response.on('close', () => this.open.delete(response));
    const faults = this.takeFaults(path, request.headers.range !== undefined);
    const find = <Kind extends Fault['kind']>(kind: Kind) => faults.find((fault) => fault.kind === kind) as Extract<Fault, { kind: Kind }> | undefined;

    const delay = find('delay');
    if (delay && (await waitUnlessClientLeaves(delay.milliseconds, response)) === 'client-closed') return;
    const redirect = find('redirect');
    if (redirect) return this.finish(response, logged, redirect.status ?? 302, { location: redirect.location });
    const status = find('status');
    if (status) return this.finish(response, logged, status.status, status.headers ?? {});

    let body = this.files.get(path);
    const etag = this.etags.get(path);
    if (!body || !etag) return this.finish(response, logged, 404, {});
    if (find('corrupt')) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const grow = find('grow');
    if (grow) body = Buffer.concat([body, Buffer.alloc(grow.extra, 0x5a)]);
    const hold = find('hold-until-exists');
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const ifRange = request.headers['if-range'];
    if (range && !find('ignore-range') && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= body.length) {
        return this.finish(response, logged, 416, { 'content-range': `bytes */${body.length}` });
      }
    }
    const headers: Record<string, string | number> = {
      etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': body.length - start,
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    logged.status = start > 0 ? 206 : 200;
    response.writeHead(logged.status, headers);
    const cut = find('close-after');
    const stall = find('stall-after');
    const limit = Math.min(body.length, start + (cut?.bytes ?? stall?.bytes ?? Infinity));
    let holdAt = hold ? start + hold.bytes : Number.POSITIVE_INFINITY;
    for (let at = start; at < limit && !response.destroyed; ) {
      if (hold && at >= holdAt) {
        logged.held = await waitForPath(hold.path, hold.timeoutMs ?? 30_000, response);
        holdAt = Number.POSITIVE_INFINITY;
      }
      const end = Math.min(limit, at + this.chunkBytes, holdAt);
      if (!response.write(body.subarray(at, end))) await new Promise((resolve) => response.once('drain', resolve));
      if (this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      at = end;
    }
    if (cut) {
      // A test may wait for a state (the client's partial file on disk) rather than a time.
      if (cut.beforeClose) await cut.beforeClose();
      else await sleep(5);
      response.destroy();
      return;
    }
    if (stall) return; // leave the socket open and silent
    response.end();
  }

  private finish(response: ServerResponse, logged: LoggedRequest, status: number, headers: Record<string, string>): void {
    logged.status = status;
    response.writeHead(status, { 'content-length': 0, ...headers });
    response.end();
  }
}

/** Polls for `path` (a state the test waits on: a file the client writes), up to `timeoutMs` or until the client leaves. */
async function waitForPath(path: string, timeoutMs: number, response: ServerResponse): Promise<'released' | 'timed-out' | 'client-closed'> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (response.destroyed) return 'client-closed';
    if (Date.now() > deadline) return 'timed-out';
    await sleep(10);
  }
  return 'released';
}

/** Waits `milliseconds`, or until the client leaves (an aborted or timed-out request ends its delay). */
function waitUnlessClientLeaves(milliseconds: number, response: ServerResponse): Promise<'elapsed' | 'client-closed'> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve('client-closed');
    };
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve('elapsed');
    }, milliseconds);
    response.once('close', onClose);
  });
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Start a server serving `files` (manifest first) under `/model/`. */
export async function serveModel(files: Map<string, Buffer>, manifestText: string): Promise<{ server: TestServer; baseUrl: string }> {
  const server = new TestServer();
  server.setFile('unipic.json', Buffer.from(manifestText));
  for (const [path, body] of files) server.setFile(path, body);
  const baseUrl = await server.start();
  return { server, baseUrl };
}
