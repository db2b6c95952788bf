/**
 * Base of every error the SDK throws. Errors cross worker boundaries as JSON, and `instanceof`
 * fails across realms (iframes, workers, duplicated bundles), so identity is a Symbol.for marker.
 */
const MARKER = Symbol.for('unipic.error');

export interface SerializedUniPicError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
  readonly cause?: SerializedUniPicError | { name: string; message: string };
}

type ErrorFactory = (message: string, details: unknown, cause: unknown) => UniPicError;
const registry = new Map<string, ErrorFactory>();

export class UniPicError extends Error {
  readonly [MARKER] = true;
  readonly code: string;
  /** Structured data about the failure (zod issues, attempts, file names...). */
  readonly details?: unknown;

  constructor(code: string, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UniPicError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  static isInstance(value: unknown): value is UniPicError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** Subclasses register so `fromJSON` rebuilds the right class on the other side of a worker. */
  static register(code: string, factory: ErrorFactory): void {
    registry.set(code, factory);
  }

  toJSON(): SerializedUniPicError {
    const cause = this.cause;
    let serializedCause: SerializedUniPicError['cause'];
    if (UniPicError.isInstance(cause)) serializedCause = cause.toJSON();
    else if (cause instanceof Error) serializedCause = { name: cause.name, message: cause.message };
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details !== undefined ? { details: this.details } : {}),
      ...(serializedCause ? { cause: serializedCause } : {}),
    };
  }

  static fromJSON(json: SerializedUniPicError): UniPicError {
    const cause = json.cause
      ? 'code' in json.cause
        ? UniPicError.fromJSON(json.cause as SerializedUniPicError)
        : Object.assign(new Error(json.cause.message), { name: json.cause.name })
      : undefined;
    const factory = registry.get(json.code);
    const error = factory ? factory(json.message, json.details, cause) : new UniPicError(json.code, json.message, { cause, details: json.details });
    return error;
  }
}
