import {
  AbortError,
  BackendNotInstalledError,
  BackendUnavailableError,
  DisposedError,
  IntegrityError,
  InvalidInputError,
  InvalidModelError,
  InvalidOptionsError,
  ModelNotFoundError,
  NumericError,
  OrtRuntimeError,
  OutOfMemoryError,
  UniPicError,
  UnsupportedDeviceError,
  type SerializedUniPicError,
} from '../errors/index.js';

/**
 * The classes `fromJSON` can rebuild register themselves when their modules run. Referencing them
 * here keeps those modules (and their registration) in the page's bundle even under
 * `sideEffects: false` tree shaking, so a worker's `InvalidOptionsError` is one on the page too.
 */
const REBUILT_CODES: ReadonlySet<string> = new Set(
  [
    AbortError,
    BackendNotInstalledError,
    BackendUnavailableError,
    DisposedError,
    IntegrityError,
    InvalidInputError,
    InvalidModelError,
    InvalidOptionsError,
    ModelNotFoundError,
    NumericError,
    OrtRuntimeError,
    OutOfMemoryError,
    UnsupportedDeviceError,
  ].map((errorClass) => errorClass.code),
);

/**
 * Any thrown value as a `SerializedUniPicError`. Errors that are not the SDK's (a bug, a raw
 * runtime failure) keep their name and message under the `WORKER_ERROR` code rather than
 * vanishing into a generic "worker failed".
 */
export function serializeError(error: unknown): SerializedUniPicError {
  if (UniPicError.isInstance(error)) return error.toJSON();
  if (error instanceof Error) {
    return { name: 'UniPicError', code: 'WORKER_ERROR', message: error.message, cause: { name: error.name, message: error.message } };
  }
  return { name: 'UniPicError', code: 'WORKER_ERROR', message: String(error) };
}

/** Rebuild a worker's error as its own class (a plain `UniPicError` for codes no class claims). */
export function deserializeError(error: SerializedUniPicError): UniPicError {
  const rebuilt = UniPicError.fromJSON(error);
  if (REBUILT_CODES.has(error.code) && rebuilt.constructor === UniPicError) {
    // Only possible if a bundler dropped an error module despite the references above.
    return new UniPicError(error.code, `${error.message} (its error class was not registered on this side)`, { details: error.details });
  }
  return rebuilt;
}
