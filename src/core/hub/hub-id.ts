import { InvalidOptionsError } from '../../errors/invalid-options-error.js';

/** The prefix that makes a model location or checkpoint path a Hugging Face Hub repository. */
export const HUB_PREFIX = 'hf:';

/** A repository (and optionally a revision and a folder inside it) named by an `hf:` id. */
export interface HubLocation {
  /** `org/name`. */
  readonly repo: string;
  /** Branch, tag or commit; absent when the id names none (then `main`, or the `hub.revision` option). */
  readonly revision?: string;
  /** Folder inside the repository holding the files (`''` for the root), no leading or trailing `/`. */
  readonly subfolder: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubId(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(HUB_PREFIX);
}

/**
 * `hf:<org>/<name>[@<revision>][/<folder>…]`. The revision ends at the next `/`; one that contains
 * `/` (`refs/pr/1`) is written percent-encoded (`refs%2Fpr%2F1`) or passed as `hub.revision`.
 */
export function parseHubId(id: string): HubLocation {
  const fail = (message: string): never => {
    throw new InvalidOptionsError(`"${id}" is not a Hub id: ${message} (expected hf:<org>/<name>[@<revision>][/<folder>])`, {
      details: { issues: [{ path: 'model', message }] },
    });
  };
  if (!id.startsWith(HUB_PREFIX)) fail(`it does not start with ${HUB_PREFIX}`);
  const segments = id.slice(HUB_PREFIX.length).split('/');
  if (segments.length < 2) fail('it names no organisation and repository');
  const [org, nameAndRevision, ...folder] = segments;
  const at = nameAndRevision.indexOf('@');
  const name = at < 0 ? nameAndRevision : nameAndRevision.slice(0, at);
  let revision: string | undefined;
  if (at >= 0) {
    try {
      revision = decodeURIComponent(nameAndRevision.slice(at + 1));
    } catch {
      fail('the revision is not valid percent-encoding');
    }
    if (!revision) fail('the revision after @ is empty');
    else if (!isSafeRevision(revision)) fail(`"${revision}" is not a revision name`);
  }
  if (!NAME.test(org) || !NAME.test(name)) fail(`"${org}/${name}" is not a repository name`);
  if (folder.length > 0 && folder[folder.length - 1] === '') folder.pop();
  if (folder.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\\'))) {
    fail('the folder must be a plain relative path');
  }
  return { repo: `${org}/${name}`, ...(revision !== undefined ? { revision } : {}), subfolder: folder.join('/') };
}

/** The id back as text, with the revision it was pinned to (for manifests and messages). */
export function formatHubId(location: { repo: string; revision?: string; subfolder?: string }): string {
  const revision = location.revision === undefined ? '' : `@${encodeURIComponent(location.revision)}`;
  return `${HUB_PREFIX}${location.repo}${revision}${location.subfolder ? `/${location.subfolder}` : ''}`;
}

/** A 40-hex git commit id: a revision that cannot move. */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * Branch, tag or commit names as git allows them, minus what could leave `refs/` once written to
 * the cache as `refs/<revision>`: no empty, `.` or `..` segment, no backslash or control character.
 */
export function isSafeRevision(revision: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (revision.length === 0 || revision.length > 255 || /[\\\u0000-\u001f]/.test(revision) || revision.startsWith('/')) return false;
  return revision.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
