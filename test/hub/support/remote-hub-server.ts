import { MessageChannel, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { startWorker } from '../../../src/node/start-worker.js';
import type { Fault, LoggedRequest } from '../../sources/support/test-server.js';
import type { HubCall } from './hub-server-thread.js';
import type { HubRequest } from './hub-server.js';

/**
 * The test Hub (hub-server.ts) in a worker thread, driven through the same methods and properties,
 * synchronously. A streamed `hf:` conversion blocks the main thread while its readers wait for
 * bytes (they read synchronously); a server on the main thread could then never send them.
 */
export class RemoteHubServer {
  private readonly worker: Worker;
  private readonly channel = new MessageChannel();
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 0;
  readonly cdn: RemoteCdn;

  constructor() {
    this.worker = startWorker(new URL('./hub-server-thread.ts', import.meta.url), {
      workerData: { port: this.channel.port2, flag: this.flag.buffer },
      transferList: [this.channel.port2],
    });
    this.worker.unref();
    this.cdn = new RemoteCdn((kind, name, args) => this.send('cdn', kind, name, args));
  }

  /** One call, answered before this returns (the worker's event loop runs while this thread waits). */
  send(target: HubCall['target'], kind: HubCall['kind'], name: string, args: readonly unknown[] = []): unknown {
    const id = ++this.nextId;
    Atomics.store(this.flag, 0, 0);
    this.channel.port1.postMessage({ id, target, kind, name, args } satisfies HubCall);
    // A worker that failed to start never answers: fail the test instead of hanging it.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`the test Hub thread did not answer ${target}.${name}`);
      Atomics.wait(this.flag, 0, 0, 100);
      const reply = receiveMessageOnPort(this.channel.port1)?.message as { id: number; result?: unknown; error?: string } | undefined;
      if (!reply) continue;
      if (reply.id !== id) continue;
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply.result;
    }
  }

  start(): Promise<string> {
    return Promise.resolve(this.send('hub', 'call', 'start') as string);
  }

  async close(): Promise<void> {
    this.send('hub', 'call', 'close');
    await this.worker.terminate();
  }

  get endpoint(): string {
    return this.send('hub', 'get', 'endpoint') as string;
  }

  get token(): string {
    return this.send('hub', 'get', 'token') as string;
  }

  get requests(): HubRequest[] {
    return this.send('hub', 'get', 'requests') as HubRequest[];
  }

  publish(repo: string, files: Map<string, Buffer>, options: { branch?: string; gated?: boolean } = {}): string {
    return this.send('hub', 'call', 'publish', [repo, files, options]) as string;
  }

  fileRequests(): HubRequest[] {
    return this.send('hub', 'call', 'fileRequests') as HubRequest[];
  }

  apiRequests(): HubRequest[] {
    return this.send('hub', 'call', 'apiRequests') as HubRequest[];
  }

  allRequests(): HubRequest[] {
    return this.send('hub', 'call', 'allRequests') as HubRequest[];
  }
}

/** The CDN half (the sources tests' TestServer) of the remote hub. */
class RemoteCdn {
  constructor(private readonly send: (kind: HubCall['kind'], name: string, args?: readonly unknown[]) => unknown) {}

  get requests(): LoggedRequest[] {
    return this.send('get', 'requests') as LoggedRequest[];
  }

  get chunkDelayMs(): number {
    return this.send('get', 'chunkDelayMs') as number;
  }

  set chunkDelayMs(value: number) {
    this.send('set', 'chunkDelayMs', [value]);
  }

  addFault(path: string, fault: Fault): void {
    this.send('call', 'addFault', [path, fault]);
  }

  requestsFor(path: string): LoggedRequest[] {
    return this.send('call', 'requestsFor', [path]) as LoggedRequest[];
  }

  setFile(path: string, body: Buffer): void {
    this.send('call', 'setFile', [path, body]);
  }

  url(path: string): string {
    return this.send('call', 'url', [path]) as string;
  }
}
