import { IntegrityError } from '../../errors/integrity-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { OpenedFile } from './model-source.js';
import { TransientSourceError } from './transient-source-error.js';

/** What one HTTP answer to a (possibly ranged) GET means for the transfer. */
export type HttpOutcome = { readonly kind: 'file'; readonly file: OpenedFile } | { readonly kind: 'restart' };

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Interpret a response to `GET path` sent with `Range: bytes=offset-` (when offset > 0) and
 * `If-Range: validator`. A 200 to a ranged request means the server restarted the file; a 206
 * that starts elsewhere, or carries another validator, cannot be trusted and asks for a restart.
 */
export async function interpretResponse(response: Response, what: string, offset: number, validator: string | undefined): Promise<HttpOutcome> {
  const status = response.status;
  if (status === 200 || status === 206) {
    const responseValidator = validatorOf(response.headers);
    const body = response.body ?? new Blob([]).stream();
    if (status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      const sameFile = validator === undefined || responseValidator === undefined || responseValidator === validator;
      if (!range || range.start !== offset || !sameFile) {
        await body.cancel().catch(() => undefined);
        return { kind: 'restart' };
      }
      return { kind: 'file', file: withOptional({ offset, body }, responseValidator, range.total) };
    }
    return { kind: 'file', file: withOptional({ offset: 0, body }, responseValidator, plainLength(response.headers)) };
  }
  await response.body?.cancel().catch(() => undefined);
  if (status === 416) return { kind: 'restart' };
  if (status === 404 || status === 410) {
    throw new ModelNotFoundError(`${what} does not exist (HTTP ${status})`, { details: { status } });
  }
  if (status === 401 || status === 403) {
    throw new ModelNotFoundError(`${what}: access refused (HTTP ${status}); a gated or private model needs credentials in the \`headers\` option`, {
      details: { status },
    });
  }
  if (RETRYABLE_STATUS.has(status) || (status >= 500 && status <= 599)) {
    throw new TransientSourceError(`HTTP ${status} for ${what}`, {
      status,
      ...retryAfter(response.headers),
    });
  }
  throw new ModelNotFoundError(`${what}: unexpected HTTP ${status}`, { details: { status } });
}

/** Fail at the headers when the server announces a file size other than the manifest's. */
export function assertAnnouncedSize(path: string, announced: number | undefined, expected: number): void {
  if (announced !== undefined && announced !== expected) {
    throw new IntegrityError(`${path}: the source announces ${announced} bytes, the manifest lists ${expected}`, {
      details: { path, expectedSize: expected, actualSize: announced },
    });
  }
}

function withOptional(file: { offset: number; body: ReadableStream<Uint8Array> }, validator: string | undefined, size: number | undefined): OpenedFile {
  return { ...file, ...(validator !== undefined ? { validator } : {}), ...(size !== undefined ? { size } : {}) };
}

/** A strong ETag, else Last-Modified: what If-Range accepts. Weak ETags cannot validate ranges. */
function validatorOf(headers: Headers): string | undefined {
  const etag = headers.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return headers.get('last-modified') ?? undefined;
}

function parseContentRange(value: string | null): { start: number; total?: number } | undefined {
  const match = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), ...(match[3] !== '*' ? { total: Number(match[3]) } : {}) };
}

/** Content-Length is the file size only when the body is not content-encoded. */
function plainLength(headers: Headers): number | undefined {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return undefined;
  const length = headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

function retryAfter(headers: Headers): { retryAfterMs?: number } {
  const value = headers.get('retry-after');
  if (!value) return {};
  if (/^\d+$/.test(value)) return { retryAfterMs: Number(value) * 1000 };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { retryAfterMs: Math.max(0, date - Date.now()) };
}
