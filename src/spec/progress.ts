/**
 * Load progress, reported through `onProgress` while a model loads (the model object does not
 * exist yet, so this is a callback rather than an event on the model).
 *
 * Phases:
 * - `download`: bytes arriving from the network (into the disk cache, the Cache API or memory).
 * - `cache-read`: bytes found locally: a cache hit, a local model folder, or user-supplied bytes.
 *   A hit whose recorded verification is still valid reports the whole file at once; a file that
 *   must be hashed reports bytes as they are hashed.
 * - `session-create`, `warmup`: emitted by the model loader after the files are resolved.
 *
 * Within one fetch stage (`download` and `cache-read` share one counter), `total` is the sum of the
 * manifest sizes of the files this load needs and is known before the first byte; `loaded` and
 * `fileLoaded` never decrease; the stage's last event has `loaded === total`. The loader's phases
 * (`session-create`, `warmup`) bring their own counters with the same rules.
 */
export type LoadPhase = 'download' | 'cache-read' | 'session-create' | 'warmup';

export interface LoadProgressEvent {
  readonly phase: LoadPhase;
  /** Manifest path of the file this event is about (a graph name for the loader's phases). */
  readonly file: string;
  readonly fileLoaded: number;
  readonly fileTotal: number;
  readonly loaded: number;
  readonly total: number;
}

export type LoadProgressCallback = (event: LoadProgressEvent) => void;
