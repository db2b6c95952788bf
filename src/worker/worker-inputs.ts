import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import type { LoadOptions } from '../core/model/load-options.js';

/**
 * Turn page-side inputs into what can cross to a worker and mean the same there. Relative URLs
 * would resolve against the worker script's URL, `URL` objects do not survive structured clone,
 * and elements (`<img>`, `<canvas>`) cannot leave their document: they become absolute URL
 * strings and ImageBitmaps. Functions (signals, callbacks, custom backends or randomness) cannot
 * cross at all and are refused with the reason.
 */

function baseUrl(): string | undefined {
  const location = (globalThis as { location?: { href?: string } }).location;
  const document = (globalThis as { document?: { baseURI?: string } }).document;
  return document?.baseURI ?? location?.href;
}

/** Absolute URL for strings and URL objects; anything else unchanged. */
export function absoluteUrl(value: string | URL): string {
  if (value instanceof URL) return value.href;
  const base = baseUrl();
  try {
    return base ? new URL(value, base).href : value;
  } catch {
    return value;
  }
}

function refuse(path: string, message: string): never {
  throw new InvalidOptionsError(`Invalid worker options — ${path}: ${message}`, { details: { issues: [{ path, message }] } });
}

/** The model source as the worker will see it: a URL string, or a file map of Blobs/bytes. */
export function prepareSource(source: unknown): unknown {
  if (typeof source === 'string' || source instanceof URL) return absoluteUrl(source);
  if (typeof source === 'object' && source !== null && !(source instanceof Map) && !isPlainRecord(source)) {
    refuse('source', 'a model source object cannot cross to a worker: pass a URL or a file map, or load in the page');
  }
  return source;
}

function isPlainRecord(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Load options minus what the page keeps (`signal`, `onProgress`). */
export function prepareLoadOptions(options: LoadOptions): Record<string, unknown> {
  const { signal: _signal, onProgress: _onProgress, backend, backendOptions, ...rest } = options;
  if (backend !== undefined && typeof backend !== 'string') {
    refuse('backend', 'a Backend object cannot cross to a worker: name a bundled adapter ("web-ort") and configure it with backendOptions');
  }
  const out: Record<string, unknown> = { ...rest, ...(backend !== undefined ? { backend } : {}) };
  if (backendOptions) {
    const wasmPaths = backendOptions.wasmPaths;
    out.backendOptions = { ...backendOptions, ...(wasmPaths !== undefined ? { wasmPaths: absoluteWasmPaths(wasmPaths) } : {}) };
  }
  return out;
}

/** ORT resolves `wasmPaths` against the worker's URL; the page meant its own. */
function absoluteWasmPaths(wasmPaths: unknown): unknown {
  if (typeof wasmPaths === 'string' || wasmPaths instanceof URL) return absoluteUrl(wasmPaths);
  if (typeof wasmPaths !== 'object' || wasmPaths === null) return wasmPaths;
  return Object.fromEntries(Object.entries(wasmPaths).map(([key, value]) => [key, typeof value === 'string' || value instanceof URL ? absoluteUrl(value) : value]));
}

type Drawable = { readonly width: number; readonly height: number };

function needsBitmap(value: object): value is Drawable & ImageBitmapSource {
  const candidate = value as { getContext?: unknown; naturalWidth?: unknown; displayWidth?: unknown };
  const bitmap = (globalThis as { ImageBitmap?: abstract new () => unknown }).ImageBitmap;
  if (bitmap && value instanceof bitmap) return false;
  // Canvases, <img> and video frames: drawable in this document only.
  return typeof candidate.getContext === 'function' || typeof candidate.naturalWidth === 'number' || typeof candidate.displayWidth === 'number';
}

/** Throw, from the call itself, for call options that can never reach a worker. */
export function refuseUncrossable(options: Readonly<Record<string, unknown>>): void {
  if (options.random !== undefined) refuse('random', 'a RandomSource cannot cross to a worker: pass a seed instead');
}

/** Call options minus `signal` (the run keeps it), with the image (and a region mask) made transferable to a worker. */
export async function prepareCallOptions(options: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
  refuseUncrossable(options);
  const { signal: _signal, random: _random, ...kept } = options;
  const rest: Record<string, unknown> = { ...kept };
  for (const key of ['image', 'mask'] as const) {
    const image = rest[key];
    if (typeof image === 'string' || image instanceof URL) rest[key] = absoluteUrl(image);
    else if (typeof image === 'object' && image !== null && needsBitmap(image)) {
      if (typeof createImageBitmap !== 'function') refuse(key, 'this element cannot cross to a worker here (no createImageBitmap)');
      // Default decoding settings: the worker then draws it through a canvas, as the page would have.
      rest[key] = await createImageBitmap(image);
    }
  }
  return rest;
}
