import { UniPicError } from './unipic-error.js';

export interface OptionIssue {
  /** Dotted path of the offending option, e.g. `size` or `random.orders`. */
  readonly path: string;
  readonly message: string;
}

/** Options failed validation at the public boundary; `issues` lists every offending path. */
export class InvalidOptionsError extends UniPicError {
  static readonly code = 'INVALID_OPTIONS';
  readonly issues: readonly OptionIssue[];
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('INVALID_OPTIONS', message, options);
    this.name = 'InvalidOptionsError';
    this.issues = (options.details as { issues?: OptionIssue[] } | undefined)?.issues ?? [];
  }
}
UniPicError.register('INVALID_OPTIONS', (message, details, cause) => new InvalidOptionsError(message, { details, cause }));
