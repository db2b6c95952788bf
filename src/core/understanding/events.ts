/** Events of an understand run. */
export type TextRunEvent =
  | { readonly type: 'text-delta'; readonly delta: string }
  | { readonly type: 'warning'; readonly code: string; readonly message: string }
  | { readonly type: 'finish'; readonly finishReason: FinishReason; readonly timings: TextTimings };

/** `stop`: an end token (`<|im_end|>`, `<|endoftext|>`); `stop-string`: a caller's stop string; `length`: maxTokens. */
export type FinishReason = 'stop' | 'stop-string' | 'length';

export interface TextTimings {
  /** Image encoding + prompt prefill, ms. */
  readonly prefillMs: number;
  /** From the call's start to the first token, ms. */
  readonly timeToFirstTokenMs: number;
  readonly totalMs: number;
  /** Generated tokens per second of decoding (after the first token). */
  readonly tokensPerSecond: number;
}

export interface UnderstandResult {
  readonly text: string;
  /** Generated token ids (the end token excluded). */
  readonly tokens: readonly number[];
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  readonly finishReason: FinishReason;
  /** Whether the image's prefix cache from an earlier call on the same image was reused. */
  readonly reusedImageCache: boolean;
  /** The sampling seed (given or drawn) when `doSample` without a `random` source; repeat with it. */
  readonly seed?: number;
  readonly timings: TextTimings;
  readonly warnings: readonly { code: string; message: string }[];
}
