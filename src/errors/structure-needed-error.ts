import { UniPicError } from './unipic-error.js';

export interface StructureNeededDetails {
  /** Structure fields (`section.field`, snake_case) that no tensor shape or config file states. */
  readonly fields: readonly string[];
  /** The side-config file to write them to. */
  readonly file: string;
  /** The exact JSON to write there, with placeholders (`null`) for the values to fill in. */
  readonly example: Record<string, Record<string, unknown>>;
}

/**
 * A checkpoint whose shapes leave numbers open that the converter cannot guess (head counts of a
 * MAR stack that is not UniPic-1.5B's, GroupNorm groups of another VAE): the message and
 * `details` name the fields and show the side-config file that supplies them.
 */
export class StructureNeededError extends UniPicError {
  static readonly code = 'STRUCTURE_NEEDED';
  declare readonly details: StructureNeededDetails;
  constructor(message: string, options: { cause?: unknown; details: StructureNeededDetails }) {
    super('STRUCTURE_NEEDED', message, options);
    this.name = 'StructureNeededError';
  }
}
UniPicError.register('STRUCTURE_NEEDED', (message, details, cause) => new StructureNeededError(message, { details: details as StructureNeededDetails, cause }));
