import { UniPicError } from './unipic-error.js';

/**
 * What the Hugging Face Hub (or a mirror at `HF_ENDPOINT`) refused, from its `X-Error-Code`
 * header when it sends one, else from the status and the request:
 * - `HUB_REPO_NOT_FOUND`: no such repository (or a private one this token cannot see);
 * - `HUB_ACCESS_DENIED`: a gated or private repository without a token, or a token without access;
 * - `HUB_REVISION_NOT_FOUND`: the branch, tag or commit does not exist;
 * - `HUB_ENTRY_NOT_FOUND`: a file is missing from the repository at that revision.
 * Messages and `details` never carry the token.
 */
export const HUB_ERROR_CODES = ['HUB_REPO_NOT_FOUND', 'HUB_ACCESS_DENIED', 'HUB_REVISION_NOT_FOUND', 'HUB_ENTRY_NOT_FOUND'] as const;
export type HubErrorCode = (typeof HUB_ERROR_CODES)[number];

export interface HubErrorDetails {
  readonly repo: string;
  readonly revision?: string;
  /** Files missing from the repository (`HUB_ENTRY_NOT_FOUND`). */
  readonly missing?: readonly string[];
  /** HTTP status, when the error comes from an answer. */
  readonly status?: number;
  /** The Hub's `X-Error-Code` (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound…). */
  readonly hubErrorCode?: string;
  /** Whether a token was sent (never the token itself). */
  readonly tokenSent?: boolean;
  /** `gated`, `unauthorized`, `forbidden` or `disabled` for `HUB_ACCESS_DENIED`. */
  readonly reason?: string;
}

export class HubError extends UniPicError {
  declare readonly code: HubErrorCode;
  declare readonly details: HubErrorDetails;

  constructor(code: HubErrorCode, message: string, options: { cause?: unknown; details: HubErrorDetails }) {
    super(code, message, options);
    this.name = 'HubError';
  }
}
for (const code of HUB_ERROR_CODES) {
  UniPicError.register(code, (message, details, cause) => new HubError(code, message, { details: details as HubErrorDetails, cause }));
}
