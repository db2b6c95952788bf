import type { LlmKvCache } from '../../../core/llm-kv-cache.js';

/**
 * The KV cache of `<|im_start|>user\n` + the image's visual tokens, kept for follow-up questions:
 * checkpointed there, so each call appends its question and answer and rolls back to it.
 */
export interface ImagePrefix {
  readonly key: string;
  /** Tokens covered (text before the image + the image slots). */
  readonly length: number;
  readonly cache: LlmKvCache;
}

/** FNV-1a over the preprocessed pixels and size: identifies "the same image" across calls. */
export function imageKey(pixels: Float32Array, size: number): string {
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[bytes.length - 1 - i], 0x01000193);
  }
  return `${size}:${bytes.length}:${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}
