import { createKvCache } from '../../../core/create-kv-cache.js';
import { runLlmStep } from '../../../core/llm-kv-cache.js';
import { tablesForCall } from '../generation/position-tables.js';
import { throwIfAborted } from '../../../errors/abort-error.js';
import type { DeviceTensor } from '../../../spec/backend.js';
import { embedTokens } from '../generation/prefix.js';
import { encodeSourceImage } from '../generation/source-image.js';
import { loadImage } from '../../../core/image/load-image.js';
import { preprocessForUnderstanding } from '../../../core/image/model-tensor.js';
import type { UniPic1Context as CallContext } from '../call-context.js';
import { checkContextWindow } from '../model/context-window.js';
import type { ParsedUnderstandOptions } from '../options/understand-options.js';
import { randomSeed, SeededRandom } from '../../../core/random/random-source.js';
import type { RunController } from '../../../core/run/run.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { understandingPrompt } from '../../../core/text/prompts.js';
import { TokenSelector } from '../../../core/text/sampling.js';
import { resolveTextSampling } from '../../../core/text/sampling-options.js';
import { TextStream } from '../../../core/text/text-stream.js';
import type { FinishReason, TextRunEvent, UnderstandResult } from '../../../core/understanding/events.js';
import { imageKey, type ImagePrefix } from './image-prefix.js';
import { prefillCache } from '../generation/chunked-prefill.js';

const IMAGE_PREFIX_CACHE = 'understand:image-prefix';

/**
 * Image + question → streamed text: visual tokens spliced into the prompt, a plain
 * causal LM with a growing cache, greedy by default. The KV of the part up to the image is kept
 * so a follow-up question on the same image skips the image's prefill.
 */
export async function understandImage(context: CallContext, controller: RunController<TextRunEvent>, options: ParsedUnderstandOptions): Promise<UnderstandResult> {
  const started = Date.now();
  const { graphs, config, assets, signal } = context;
  const { hiddenSize: H } = config.llm;
  const size = options.size ?? assets.defaultSize;
  const tables = await tablesForCall(context, size);
  const tokenizer = await assets.tokenizer();
  const image = await loadImage(options.image, { signal });
  if (image.width !== image.height) {
    context.warn('image-padded', `the ${image.width}×${image.height} image was padded to a square with gray (127,127,127), as the official pipeline does`);
  }
  const pixels = preprocessForUnderstanding(image, size);
  const key = imageKey(pixels, size);
  const visualLength = config.mar.bufferSize + tables.grid * tables.grid;
  const prompt = understandingPrompt(tokenizer, options.prompt, visualLength);
  // Room for at least one new token; decoding stops with 'length' when the context is full.
  checkContextWindow(config, prompt.ids.length + 1, 'the question with the image');
  const contextLimit = config.llm.maxPositionEmbeddings;
  const imageEnd = prompt.imageStart + prompt.imageLength;

  // The image prefix: reused when this image (same pixels, same size) was the last one understood.
  let prefix = assets.getCached<ImagePrefix>(IMAGE_PREFIX_CACHE);
  const reusedImageCache = prefix?.key === key;
  if (!prefix || !reusedImageCache) {
    const source = await encodeSourceImage(graphs, config, tables, pixels, signal, assets.manifest.stripEncoder);
    const embeds = (await embedTokens(graphs, [prompt.ids.slice(0, imageEnd)], signal)).data;
    embeds.set(source.visualTokens, prompt.imageStart * H);
    const cache = createKvCache(assets.manifest, config.llm);
    try {
      // Only the cache is needed here; the question's prefill below yields the hidden state.
      await prefillCache(graphs, cache, embeds, imageEnd, { signal });
    } catch (error) {
      cache.clear();
      throw error;
    }
    // What this call and later ones append on top is rolled back when each call ends.
    cache.checkpoint();
    prefix = { key, length: imageEnd, cache };
    assets.setCached(IMAGE_PREFIX_CACHE, prefix, () => cache.clear());
  }
  throwIfAborted(signal);
  const cache = prefix.cache;
  const step = (embeds: Float32Array, length: number) => runLlmStep(graphs, cache, float32([1, length, H], embeds), length, { hidden: true, append: true, signal });

  let hidden: DeviceTensor | undefined;
  const sampling = resolveTextSampling(options, assets.manifest.generation);
  const seed = sampling.doSample && !options.random ? (options.seed ?? randomSeed()) : undefined;
  const tokens: number[] = [];
  let finishReason: FinishReason = 'length';
  let firstTokenAt = 0;
  let prefillMs = 0;
  let stream: TextStream;
  try {
    // The question and the assistant turn, over the image prefix.
    const rest = prompt.ids.slice(imageEnd);
    hidden = await step((await embedTokens(graphs, [rest], signal)).data, rest.length);
    prefillMs = Date.now() - started;
    const random = options.random ?? new SeededRandom(seed as number);
    const selector = new TokenSelector(sampling, sampling.doSample ? () => random.uniform() : undefined);
    stream = new TextStream(tokenizer, { stopStrings: options.stop });
    const ends = new Set([tokenizer.specialIds.imEnd, tokenizer.specialIds.endOfText]);
    for (;;) {
      const states = await takeFloat32(hidden);
      hidden = undefined;
      const last = states.data.subarray(states.data.length - H);
      const logits = await graphs.run('lm_head', { hidden: float32([1, H], last.slice()) }, { signal });
      const id = selector.select((await takeFloat32(logits.logits)).data);
      if (!firstTokenAt) firstTokenAt = Date.now();
      if (ends.has(id)) {
        finishReason = 'stop';
        break;
      }
      tokens.push(id);
      const update = stream.push(id);
      if (update.delta) controller.emit({ type: 'text-delta', delta: update.delta });
      if (update.stopped) {
        finishReason = 'stop-string';
        break;
      }
      if (tokens.length >= options.maxTokens || prompt.ids.length + tokens.length >= contextLimit) break;
      throwIfAborted(signal);
      hidden = await step((await embedTokens(graphs, [[id]], signal)).data, 1);
    }
  } finally {
    hidden?.dispose();
    // The image prefix stays cached; only this call's own positions are released.
    cache.rollback();
  }
  const tail = stream.finish();
  if (tail.delta) controller.emit({ type: 'text-delta', delta: tail.delta });
  const done = Date.now();
  const decodeMs = Math.max(1, done - (firstTokenAt || done));
  const timings = {
    prefillMs,
    timeToFirstTokenMs: (firstTokenAt || done) - started,
    totalMs: done - started,
    tokensPerSecond: tokens.length > 1 ? ((tokens.length - 1) * 1000) / decodeMs : 0,
  };
  controller.emit({ type: 'finish', finishReason, timings });
  return {
    text: stream.text,
    tokens,
    usage: { promptTokens: prompt.ids.length, completionTokens: tokens.length },
    finishReason,
    reusedImageCache,
    ...(seed === undefined ? {} : { seed }),
    timings,
    warnings: [...context.warnings],
  };
}
