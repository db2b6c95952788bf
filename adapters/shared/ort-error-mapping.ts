import { InvalidModelError, ModelNotFoundError, OrtRuntimeError, OutOfMemoryError, UniPicError } from '../../src/errors/index.js';

/** Where an ORT call failed; carried in the typed error's `details`. */
export interface OrtFailureContext {
  readonly adapter: string;
  readonly phase: 'create-session' | 'run' | 'download' | 'release';
  readonly graph?: string;
  readonly device?: string;
}

// Native allocators (CPU arena, CUDA, cuDNN/cuBLAS), Emscripten's abort and V8's ArrayBuffer
// allocation all word this differently; a lost GPU device is reported the same way because the
// usual cause is memory pressure and the remedy (smaller dtype, other device) is the same.
const OUT_OF_MEMORY =
  /out of memory|bad_alloc|failed to allocate|allocation failed|could not allocate|cannot allocate|\bOOM\b|ALLOC_FAILED|cudaErrorMemoryAllocation|device (?:was |is )?lost|DEVICE_REMOVED/i;
// ORT's checked size arithmetic (SafeInt): a buffer whose size does not fit size_t, i.e. past the
// 4 GiB a wasm32 heap can address (measured: a one-shot VAE convolution at 1024 px on wasm).
const SIZE_OVERFLOW = /SafeIntOnOverflow|Integer overflow/i;
// ORT status NO_SUCHFILE (3), missing files by path, and failed fetches of a model URL.
const NOT_FOUND = /No such file|ENOENT|File doesn't exist|does not exist|ERROR_CODE: 3\b|status(?: code)?:? 404|\b404\b.*not found/i;
// ORT statuses INVALID_PROTOBUF (7), INVALID_GRAPH (10), NO_MODEL (4), and graph-level rejections.
const INVALID_MODEL =
  /protobuf parsing failed|INVALID_PROTOBUF|INVALID_GRAPH|NO_MODEL|ERROR_CODE: (?:4|7|10)\b|is not a registered function\/op|Could not find an implementation|ShapeInferenceError|Type Error|Unsupported model IR version|Missing model IR version|External initializer.*out of bounds|opset/i;

/** A readable one-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * The one place raw ONNX Runtime failures become typed errors. Errors that are already typed
 * (thrown by the adapter itself) pass through unchanged.
 */
export function toUniPicError(error: unknown, context: OrtFailureContext): UniPicError {
  if (UniPicError.isInstance(error)) return error;
  const raw = describeError(error);
  const where = context.graph ? ` (graph '${context.graph}'${context.device ? ` on ${context.device}` : ''})` : '';
  const options = { cause: error, details: { ...context, ortMessage: raw } };
  if (OUT_OF_MEMORY.test(raw)) {
    return new OutOfMemoryError(`${context.adapter}: ran out of memory during ${context.phase}${where}: ${raw}`, options);
  }
  if (SIZE_OVERFLOW.test(raw)) {
    return new OutOfMemoryError(
      `${context.adapter}: a buffer needed during ${context.phase}${where} is larger than this runtime can address (4 GiB on wasm); use a smaller size, a folder converted with strip VAE graphs, or Node: ${raw}`,
      options,
    );
  }
  if (context.phase === 'create-session') {
    if (NOT_FOUND.test(raw)) {
      return new ModelNotFoundError(`${context.adapter}: a file of the graph was not found${where}: ${raw}`, options);
    }
    if (INVALID_MODEL.test(raw)) {
      return new InvalidModelError(`${context.adapter}: ONNX Runtime rejected the graph${where}: ${raw}`, options);
    }
  }
  return new OrtRuntimeError(`${context.adapter}: ONNX Runtime failed during ${context.phase}${where}: ${raw}`, options);
}
