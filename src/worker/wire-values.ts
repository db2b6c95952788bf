import { makeImage, type GeneratedImage } from '../core/image/generated-image.js';

/**
 * Results and events cross the worker boundary by structured clone, which refuses functions. A
 * generated image carries encoders (`toPNG`, `toBlob`), so it travels as this marked record and
 * is rebuilt on the page; everything else is plain data already.
 */
const IMAGE_MARK = '__unipicImage';

interface WireImage {
  readonly [IMAGE_MARK]: true;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export interface WireValue {
  readonly value: unknown;
  /** Buffers to transfer rather than copy. */
  readonly transfer: Transferable[];
}

function isGeneratedImage(value: object): value is GeneratedImage {
  const image = value as Partial<GeneratedImage>;
  return typeof image.toPNG === 'function' && image.data instanceof Uint8ClampedArray && typeof image.width === 'number';
}

function isPlainRecord(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * Prepare a worker-side result or event for `postMessage`. Pixel buffers that a view owns whole
 * are listed for transfer: the worker has no further use for a finished image, and previews at
 * 1024² are 4 MiB each.
 */
export function toWire(value: unknown): WireValue {
  const transfer = new Set<ArrayBuffer>();
  const offer = (view: ArrayBufferView) => {
    const buffer = view.buffer;
    // A view over part of a buffer may share it with data the worker still holds; copy those.
    if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) transfer.add(buffer);
  };
  const visit = (item: unknown): unknown => {
    if (typeof item === 'function') return undefined;
    if (typeof item !== 'object' || item === null) return item;
    if (ArrayBuffer.isView(item)) {
      offer(item);
      return item;
    }
    if (Array.isArray(item)) return item.map(visit);
    if (isGeneratedImage(item)) {
      offer(item.data);
      const wire: WireImage = { [IMAGE_MARK]: true, width: item.width, height: item.height, data: item.data };
      return wire;
    }
    if (!isPlainRecord(item)) return item;
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(item)) {
      if (typeof entry !== 'function') out[key] = visit(entry);
    }
    return out;
  };
  return { value: visit(value), transfer: [...transfer] };
}

/** Rebuild what `toWire` flattened (images get their encoders back). */
export function fromWire(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(fromWire);
  if (!isPlainRecord(value)) return value;
  const record = value as Record<string, unknown>;
  if (record[IMAGE_MARK] === true) {
    const image = record as unknown as WireImage;
    return makeImage(image.width, image.height, image.data);
  }
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(record)) out[key] = fromWire(entry);
  return out;
}
