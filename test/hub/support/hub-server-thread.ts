import { workerData, type MessagePort } from 'node:worker_threads';
import { HubServer } from './hub-server.js';

/** A call from the main thread: a method, or a property read or write, on the hub or its CDN. */
export interface HubCall {
  readonly id: number;
  readonly target: 'hub' | 'cdn';
  readonly kind: 'call' | 'get' | 'set';
  readonly name: string;
  readonly args: readonly unknown[];
}

/** Cloned Buffers arrive as plain Uint8Arrays; the server hashes and slices Buffers. */
function revive(value: unknown): unknown {
  if (value instanceof Map) return new Map([...value].map(([key, entry]) => [key, revive(entry)]));
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

const { port, flag } = workerData as { port: MessagePort; flag: SharedArrayBuffer };
const done = new Int32Array(flag);
const hub = new HubServer();

port.on('message', async (call: HubCall) => {
  let reply: { id: number; result?: unknown; error?: string };
  try {
    const target = (call.target === 'hub' ? hub : hub.cdn) as unknown as Record<string, unknown>;
    let result: unknown;
    if (call.kind === 'get') result = target[call.name];
    else if (call.kind === 'set') target[call.name] = call.args[0];
    else result = await (target[call.name] as (...args: unknown[]) => unknown).apply(target, call.args.map(revive));
    reply = { id: call.id, result };
  } catch (error) {
    reply = { id: call.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});
