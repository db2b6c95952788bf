import { throwIfAborted } from '../../../errors/abort-error.js';
import { loadImage } from '../../../core/image/load-image.js';
import { randomSeed, SeededRandom } from '../../../core/random/random-source.js';
import { TextStream } from '../../../core/text/text-stream.js';
import type { TextTokenizer } from '../../../core/text/tokenizer.js';
import type { FinishReason, TextRunEvent, UnderstandResult } from '../../../core/understanding/events.js';
import { disposeAll } from '../../../core/kv-cache.js';
import type { DeviceTensor } from '../../../spec/backend.js';
import { expandImagePad, understandPrompt } from '../text/chat-templates.js';
import { encodeImage, type EncodedImage } from './encode-image.js';
import type { MqGraphs, MqRuntimeConfig } from './mq-graphs.js';
import type { MetaqueryUnderstandOptions } from './understand-options.js';
import { understandTokens } from './understand-tokens.js';

/**
 * The KV cache of the last image's prompt prefix (`<|im_start|>user\n<|vision_start|>…<|vision_end|>`)
 * with the pixels it was computed from: a follow-up question on the same image (same pixels,
 * same pixel budget) prefills only the question. Owned by the model; `dispose` frees the cache.
 */
export class ImagePrefixCache {
  private entry: { key: string; pixels: Uint8Array; image: EncodedImage; length: number; past: Record<string, DeviceTensor> } | undefined;

  lookup(key: string, pixels: Uint8Array): { image: EncodedImage; length: number; past: Record<string, DeviceTensor> } | undefined {
    const e = this.entry;
    if (!e || e.key !== key || e.pixels.length !== pixels.length) return undefined;
    for (let i = 0; i < pixels.length; i++) if (e.pixels[i] !== pixels[i]) return undefined;
    return e;
  }

  store(key: string, pixels: Uint8Array, image: EncodedImage, length: number, past: Record<string, DeviceTensor>): void {
    this.dispose();
    this.entry = { key, pixels: pixels.slice(), image, length, past };
  }

  dispose(): void {
    if (this.entry) disposeAll(this.entry.past);
    this.entry = undefined;
  }
}

export interface MetaqueryUnderstandContext {
  readonly graphs: MqGraphs;
  readonly config: MqRuntimeConfig;
  readonly tokenizer: TextTokenizer;
  readonly eosIds: readonly number[];
  readonly cache: ImagePrefixCache;
  readonly emit: (event: TextRunEvent) => void;
}

/**
 * Image + question → streamed text, as unipic2_mq_i2t.py runs Qwen2.5-VL: the Qwen2-VL processor,
 * the chat template without the default system clause, image pads expanded per merged token,
 * M-RoPE positions, the checkpoint's generation settings (validated options, see
 * understand-options.ts). Deltas are whole characters; joined they equal the result's text.
 */
export async function understandMetaquery(context: MetaqueryUnderstandContext, options: MetaqueryUnderstandOptions): Promise<UnderstandResult> {
  const started = Date.now();
  const { graphs, config, tokenizer, signal } = { ...context, signal: options.signal };
  const rgb = await loadImage(options.image, { signal });
  const key = `${rgb.width}x${rgb.height}:${options.minPixels}-${options.maxPixels}`;
  const hit = context.cache.lookup(key, rgb.data);
  const image = hit?.image ?? (await encodeImage(graphs, config, rgb, { min: options.minPixels, max: options.maxPixels }, signal));
  throwIfAborted(signal);
  const ids = tokenizer.encode(expandImagePad(understandPrompt(options.prompt, true), image.tokens));
  const visionEnd = tokenizer.tokenToId('<|vision_end|>');
  const splitAt = visionEnd === undefined ? -1 : ids.indexOf(visionEnd) + 1;

  const seed = options.doSample && !options.random ? (options.seed ?? randomSeed()) : undefined;
  const random = options.random ?? new SeededRandom(seed ?? 0);
  const stream = new TextStream(tokenizer, { stopStrings: options.stop });
  let prefillMs = 0;
  let firstTokenAt = 0;
  let stopped = false;
  let finishReason: FinishReason = 'length';
  const result = await understandTokens(graphs, config, ids, image, {
    sampling: options,
    maxTokens: options.maxTokens,
    eosIds: context.eosIds,
    random: () => random.uniform(),
    signal,
    ...(hit
      ? { prefix: { length: hit.length, past: hit.past } }
      : splitAt > 0
        ? { cacheUpTo: { splitAt, onPrefix: (past) => context.cache.store(key, rgb.data, image, splitAt, past) } }
        : {}),
    onToken: (id) => {
      if (!firstTokenAt) {
        firstTokenAt = Date.now();
        prefillMs = firstTokenAt - started;
      }
      if (stopped) return;
      const update = stream.push(id);
      if (update.delta) context.emit({ type: 'text-delta', delta: update.delta });
      if (update.stopped) stopped = true;
    },
    shouldStop: () => stopped,
  });
  finishReason = stopped ? 'stop-string' : result.finish;
  const tail = stream.finish();
  if (tail.delta) context.emit({ type: 'text-delta', delta: tail.delta });
  const done = Date.now();
  const decodeMs = Math.max(1, done - (firstTokenAt || done));
  const timings = {
    prefillMs: prefillMs || done - started,
    timeToFirstTokenMs: (firstTokenAt || done) - started,
    totalMs: done - started,
    tokensPerSecond: result.tokens.length > 1 ? ((result.tokens.length - 1) * 1000) / decodeMs : 0,
  };
  context.emit({ type: 'finish', finishReason, timings });
  return {
    text: stream.text,
    tokens: result.tokens,
    usage: { promptTokens: ids.length, completionTokens: result.tokens.length },
    finishReason,
    reusedImageCache: hit !== undefined,
    ...(seed === undefined ? {} : { seed }),
    timings,
    warnings: [],
  };
}
