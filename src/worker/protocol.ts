/**
 * The messages between a page (`createWorkerModel`) and a worker serving a model (`exposeUniPic`).
 * Every message is structured-clone data: options lose what cannot cross (signals and progress
 * callbacks become messages, drawables become ImageBitmaps), errors travel as
 * `SerializedUniPicError`, images as `WireImage` with their pixel buffers transferred.
 *
 * Each load and call has an `id` chosen by the page; `abort` names the id to stop.
 */
import type { SerializedUniPicError } from '../errors/unipic-error.js';
import type { UniPicEvents } from '../core/model/model-events.js';
import type { BackendInfo } from '../spec/backend.js';
import type { Capability, Dtype, GraphName, Manifest } from '../spec/manifest.js';
import type { LoadProgressEvent } from '../spec/progress.js';

/** Bumped when a message changes shape, so a page and a worker from different builds refuse each other. */
export const WORKER_PROTOCOL_VERSION = 1;

/** Marks unipic messages so a worker can share its message channel with other code. */
export const PROTOCOL_TAG = 'unipic';

export type ModelMethod = 'generate' | 'understand' | 'edit';
export const MODEL_METHODS: readonly ModelMethod[] = ['generate', 'understand', 'edit'];

/** What the page needs to mirror a loaded model's read-only properties. */
export interface ModelDescription {
  readonly manifest: Manifest;
  readonly capabilities: readonly Capability[];
  /** The tasks the model's family offers (a call outside them is an UnsupportedTaskError); absent: all. */
  readonly familyTasks?: readonly Capability[];
  readonly backendInfo: BackendInfo;
  readonly dtypes: Readonly<Partial<Record<GraphName, Dtype>>>;
  readonly loadWarnings: readonly { code: string; message: string }[];
}

interface Tagged {
  readonly protocol: typeof PROTOCOL_TAG;
  readonly version: number;
}

export type WorkerRequest = Tagged &
  (
    | {
        readonly kind: 'load';
        readonly id: number;
        /** A URL string or a file map (`Map`/`Record` of paths to Blobs or bytes). */
        readonly source: unknown;
        /** Load options without `signal`, `onProgress` or a backend object. */
        readonly options: Readonly<Record<string, unknown>>;
        /** Whether to post `progress` messages. */
        readonly progress: boolean;
      }
    | { readonly kind: 'call'; readonly id: number; readonly method: ModelMethod; readonly options: Readonly<Record<string, unknown>> }
    /** Stop the load or call with this id; its promise rejects with an AbortError carrying `reason`. */
    | { readonly kind: 'abort'; readonly id: number; readonly reason?: SerializedUniPicError }
    | { readonly kind: 'dispose'; readonly id: number }
  );

type ModelEventName = keyof UniPicEvents;

export type WorkerResponse = Tagged &
  (
    | { readonly kind: 'progress'; readonly id: number; readonly progress: LoadProgressEvent }
    | { readonly kind: 'loaded'; readonly id: number; readonly model: ModelDescription }
    | { readonly kind: 'event'; readonly id: number; readonly event: unknown }
    | { readonly kind: 'result'; readonly id: number; readonly result: unknown }
    | { readonly kind: 'error'; readonly id: number; readonly error: SerializedUniPicError }
    | { readonly kind: 'disposed'; readonly id: number }
    /** The model emitter's events (`warning`, `session-create`, `session-release`, `run-start`, `run-end`), re-emitted on the page. */
    | { readonly kind: 'model-event'; readonly name: ModelEventName; readonly args: readonly unknown[] }
  );

/** The part of `Worker`, `MessagePort` and `DedicatedWorkerGlobalScope` this protocol uses. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

type WithoutTag<T> = T extends unknown ? Omit<T, keyof Tagged> : never;

export function tag<T extends WorkerRequest | WorkerResponse>(message: WithoutTag<T>): T {
  return { protocol: PROTOCOL_TAG, version: WORKER_PROTOCOL_VERSION, ...message } as unknown as T;
}

export function isProtocolMessage(value: unknown): value is WorkerRequest | WorkerResponse {
  return typeof value === 'object' && value !== null && (value as Tagged).protocol === PROTOCOL_TAG;
}
