import { InvalidOptionsError } from '../../errors/index.js';
import type { TokenByteSource } from './tokenizer.js';

export interface TextStreamOptions {
  /** Leave special tokens (`<|im_end|>`...) out of the text. Default true. */
  readonly skipSpecialTokens?: boolean;
  /**
   * Generation ends as soon as the text contains one of these; the stop string and everything
   * after it are not emitted. Text that could be the start of one is held back until it cannot.
   */
  readonly stopStrings?: readonly string[];
}

export interface TextStreamUpdate {
  /** New text, always whole UTF-8 characters; may be empty. */
  readonly delta: string;
  /** True once a stop string matched; later tokens are ignored. */
  readonly stopped: boolean;
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops`. */
function heldBackLength(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    const limit = Math.min(stop.length - 1, text.length);
    for (let length = limit; length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/**
 * Turns generated token ids into text deltas. Byte-level BPE can split one character across
 * tokens, so bytes are decoded incrementally and a delta only carries complete characters; joined,
 * the deltas equal `decode(ids)` (invalid bytes become U+FFFD exactly as in the full decode).
 */
export class TextStream {
  private readonly source: TokenByteSource;
  private readonly skipSpecialTokens: boolean;
  private readonly stopStrings: readonly string[];
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  /** Decoded text not yet emitted (only ever a possible stop-string prefix). */
  private pending = '';
  private emitted = '';
  private matchedStop: string | undefined;
  private finished = false;

  constructor(source: TokenByteSource, options: TextStreamOptions = {}) {
    this.source = source;
    this.skipSpecialTokens = options.skipSpecialTokens ?? true;
    this.stopStrings = options.stopStrings ?? [];
    if (this.stopStrings.some((stop) => typeof stop !== 'string' || stop.length === 0)) {
      throw new InvalidOptionsError('stop strings must be non-empty strings', {
        details: { issues: [{ path: 'stop', message: 'must be non-empty strings' }] },
      });
    }
  }

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  get stopped(): boolean {
    return this.matchedStop !== undefined;
  }

  /** The stop string that ended the stream, if any. */
  get stopString(): string | undefined {
    return this.matchedStop;
  }

  /** Feeds one generated id. */
  push(id: number): TextStreamUpdate {
    if (this.matchedStop !== undefined || this.finished) return { delta: '', stopped: this.stopped };
    if (this.skipSpecialTokens && this.source.isSpecial(id)) return { delta: '', stopped: false };
    const bytes = this.source.tokenBytes(id);
    if (bytes === undefined || bytes.length === 0) return { delta: '', stopped: false };
    this.pending += this.decoder.decode(bytes, { stream: true });
    return this.release(false);
  }

  /** Ends the stream: flushes an incomplete character (as U+FFFD) and any held-back text. */
  finish(): TextStreamUpdate {
    if (this.matchedStop !== undefined || this.finished) return { delta: '', stopped: this.stopped };
    this.finished = true;
    this.pending += this.decoder.decode();
    return this.release(true);
  }

  private release(final: boolean): TextStreamUpdate {
    // The stop string that completes first wins (earliest end; on a tie the longer one), which is
    // where a token-by-token check would have stopped had this text arrived one character at a time.
    let stopAt = -1;
    let stopEnd = Infinity;
    for (const stop of this.stopStrings) {
      const index = this.pending.indexOf(stop);
      if (index === -1) continue;
      const end = index + stop.length;
      if (end < stopEnd || (end === stopEnd && index < stopAt)) {
        stopAt = index;
        stopEnd = end;
        this.matchedStop = stop;
      }
    }
    let delta: string;
    if (stopAt !== -1) {
      delta = this.pending.slice(0, stopAt);
      this.pending = '';
    } else {
      const hold = final ? 0 : heldBackLength(this.pending, this.stopStrings);
      delta = this.pending.slice(0, this.pending.length - hold);
      this.pending = this.pending.slice(this.pending.length - hold);
    }
    this.emitted += delta;
    return { delta, stopped: this.stopped };
  }
}
