import { HubError, type HubErrorCode } from '../../errors/hub-error.js';

export interface HubRequestContext {
  readonly repo: string;
  readonly revision?: string;
  /** The file asked for; absent for API calls about the repository. */
  readonly path?: string;
  readonly tokenSent: boolean;
  /** Host of the endpoint, for messages. */
  readonly host: string;
}

const TOKEN_HINT = 'set HF_TOKEN (or the hub.token option)';

/**
 * The typed error for a refusal of the Hub, or `undefined` for answers that are not refusals.
 * `X-Error-Code` decides when present (the Hub and its mirrors send RepoNotFound, GatedRepo,
 * RevisionNotFound, EntryNotFound, DisabledRepo); without it, the status and what was asked do.
 */
export function hubErrorOf(status: number, headers: Headers, context: HubRequestContext): HubError | undefined {
  if (status !== 401 && status !== 403 && status !== 404 && status !== 410) return undefined;
  const hubErrorCode = headers.get('x-error-code') ?? undefined;
  const { repo, revision, path, tokenSent, host } = context;
  const base = {
    repo,
    ...(revision !== undefined ? { revision } : {}),
    status,
    ...(hubErrorCode !== undefined ? { hubErrorCode } : {}),
    tokenSent,
  };
  const make = (code: HubErrorCode, message: string, extra: Record<string, unknown> = {}) => new HubError(code, message, { details: { ...base, ...extra } });
  const at = revision !== undefined ? `@${revision}` : '';
  switch (hubErrorCode) {
    case 'RepoNotFound':
      return make('HUB_REPO_NOT_FOUND', `hf:${repo}: no such repository on ${host}${tokenSent ? '' : ` (if it is private, ${TOKEN_HINT})`}`);
    case 'GatedRepo':
      return make(
        'HUB_ACCESS_DENIED',
        tokenSent
          ? `hf:${repo} is gated and the token's account has no access: accept its conditions on the model page`
          : `hf:${repo} is gated: accept its conditions on the model page and ${TOKEN_HINT}`,
        { reason: 'gated' },
      );
    case 'DisabledRepo':
      return make('HUB_ACCESS_DENIED', `hf:${repo} has been disabled on ${host}`, { reason: 'disabled' });
    case 'RevisionNotFound':
      return make('HUB_REVISION_NOT_FOUND', `hf:${repo} has no revision "${revision ?? 'main'}"`);
    case 'EntryNotFound':
      return make('HUB_ENTRY_NOT_FOUND', `hf:${repo}${at} has no file ${path ?? ''}`.trimEnd(), path ? { missing: [path] } : {});
    default:
      break;
  }
  if (status === 401) {
    return make(
      'HUB_ACCESS_DENIED',
      tokenSent
        ? `hf:${repo}: ${host} refused the token (invalid or expired?)`
        : `hf:${repo}: ${host} asks for credentials (a private or gated repository, or none by that name): ${TOKEN_HINT}`,
      { reason: 'unauthorized' },
    );
  }
  if (status === 403) {
    return make('HUB_ACCESS_DENIED', `hf:${repo}: access forbidden by ${host}${tokenSent ? '' : ` (${TOKEN_HINT})`}`, {
      reason: 'forbidden',
    });
  }
  if (path !== undefined) {
    return make('HUB_ENTRY_NOT_FOUND', `hf:${repo}${at} has no file ${path} (HTTP ${status})`, { missing: [path] });
  }
  return make('HUB_REPO_NOT_FOUND', `hf:${repo}${at}: not found on ${host} (HTTP ${status})`);
}
