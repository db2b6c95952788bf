import { toAbortError } from '../errors/abort-error.js';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { UniPicError } from '../errors/unipic-error.js';
import type { LoadProgressEvent } from '../spec/progress.js';
import {
  isProtocolMessage,
  tag,
  WORKER_PROTOCOL_VERSION,
  type MessageEndpoint,
  type ModelDescription,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol.js';
import { deserializeError, serializeError } from './wire-errors.js';

/** Callbacks for the answers to one request. */
export interface RequestHandlers {
  onProgress?(progress: LoadProgressEvent): void;
  onLoaded?(model: ModelDescription): void;
  onEvent?(event: unknown): void;
  onResult?(result: unknown): void;
  onDisposed?(): void;
  /** The request failed (or the worker died); the request is forgotten afterwards. */
  onError(error: UniPicError): void;
}

type Outgoing = WorkerRequest extends infer T ? (T extends unknown ? Omit<T, 'protocol' | 'version' | 'id'> : never) : never;

/** A Worker also reports script failures (syntax errors, 404) as `error` events. */
interface ErrorReporting {
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  removeEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
}

function reportsErrors(endpoint: object): endpoint is ErrorReporting {
  return typeof (endpoint as { terminate?: unknown }).terminate === 'function';
}

/** The page's end of the protocol: numbers requests, routes answers, fails everything if the worker dies. */
export class WorkerConnection {
  private nextId = 1;
  private readonly pending = new Map<number, RequestHandlers>();
  private failure: UniPicError | undefined;
  /** Model emitter events pushed by the worker. */
  onModelEvent: ((name: string, args: readonly unknown[]) => void) | undefined;

  private readonly onMessage = (event: MessageEvent) => {
    if (!isProtocolMessage(event.data)) return;
    const message = event.data as WorkerResponse;
    if (message.version !== WORKER_PROTOCOL_VERSION) {
      this.failAll(
        new UniPicError(
          'WORKER_PROTOCOL',
          `the worker speaks protocol ${message.version}, this page ${WORKER_PROTOCOL_VERSION}: load both from the same unipic build`,
        ),
      );
      return;
    }
    if (message.kind === 'model-event') {
      this.onModelEvent?.(message.name, message.args);
      return;
    }
    if (!('id' in message) || !['progress', 'loaded', 'event', 'result', 'error', 'disposed'].includes(message.kind)) return;
    const handlers = this.pending.get(message.id);
    if (!handlers) return;
    switch (message.kind) {
      case 'progress':
        handlers.onProgress?.(message.progress);
        return;
      case 'event':
        handlers.onEvent?.(message.event);
        return;
      case 'loaded':
        this.pending.delete(message.id);
        handlers.onLoaded?.(message.model);
        return;
      case 'result':
        this.pending.delete(message.id);
        handlers.onResult?.(message.result);
        return;
      case 'disposed':
        this.pending.delete(message.id);
        handlers.onDisposed?.();
        return;
      case 'error':
        this.pending.delete(message.id);
        handlers.onError(deserializeError(message.error));
        return;
    }
  };

  private readonly onWorkerError = (event: Event) => {
    const detail =
      (event as ErrorEvent).message ||
      (event.type === 'messageerror'
        ? 'a message could not be deserialized'
        : 'its script did not load or threw at startup (wrong URL? started without { type: "module" }?)');
    // A Worker's error event bubbles up to the page's console unless handled; it is reported here.
    event.preventDefault?.();
    this.failAll(new UniPicError('WORKER_FAILED', `the model worker failed: ${detail}`));
  };

  constructor(private readonly endpoint: MessageEndpoint) {
    endpoint.addEventListener('message', this.onMessage);
    (endpoint as { start?: () => void }).start?.();
    if (reportsErrors(endpoint)) {
      endpoint.addEventListener('error', this.onWorkerError);
      endpoint.addEventListener('messageerror', this.onWorkerError);
    }
  }

  /** Post a request; returns its id (answers go to `handlers`). */
  request(message: Outgoing, handlers: RequestHandlers): number {
    const id = this.nextId++;
    if (this.failure) {
      handlers.onError(this.failure);
      return id;
    }
    this.pending.set(id, handlers);
    try {
      this.endpoint.postMessage(tag<WorkerRequest>({ ...message, id } as never));
    } catch (error) {
      this.pending.delete(id);
      // DataCloneError: something in the options cannot be structured-cloned.
      const why = error instanceof Error ? error.message : String(error);
      handlers.onError(
        new InvalidOptionsError(`Invalid worker options — these options cannot cross to a worker: ${why}`, {
          cause: error,
          details: { issues: [{ path: '(root)', message: why }] },
        }),
      );
    }
    return id;
  }

  /** Ask the worker to stop request `id`; its answer (an AbortError) arrives as usual. */
  abort(id: number, reason: unknown): void {
    if (!this.pending.has(id)) return;
    this.endpoint.postMessage(tag<WorkerRequest>({ kind: 'abort', id, reason: serializeError(toAbortError(reason)) }));
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  private failAll(error: UniPicError): void {
    this.failure = error;
    const handlers = [...this.pending.values()];
    this.pending.clear();
    for (const handler of handlers) handler.onError(error);
  }

  close(): void {
    this.endpoint.removeEventListener('message', this.onMessage);
    if (reportsErrors(this.endpoint)) {
      this.endpoint.removeEventListener('error', this.onWorkerError);
      this.endpoint.removeEventListener('messageerror', this.onWorkerError);
    }
  }
}
