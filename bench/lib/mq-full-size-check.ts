import { readFileSync } from 'node:fs';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { openMetaqueryFolder } from '../../src/families/unipic2-metaquery/convert/open-metaquery-folder.js';

/** The family's understanding fixture: 64×48, one 2×2 merge unit short of a window on each axis. */
const IMAGE = new URL('../../test/fixtures/metaquery/image.png', import.meta.url);
/** A budget that resizes it to 224×168 → 16×12 patches → 48 image tokens (a small vision call). */
const PIXELS = 224 * 168;

export interface MqFullSizeCheckReport {
  /** First question: session creation (vision, embed, llm, lm_head) + vision + prefill + decode. */
  readonly first: CallReport;
  /** Same image again: the image prefix's KV cache is reused, so only the question prefills. */
  readonly followUp: CallReport;
}

interface CallReport {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly reusedImageCache: boolean;
  readonly prefillMs: number;
  readonly decodeTokensPerSecond: number;
  readonly totalMs: number;
  readonly rssAfterBytes: number;
}

/**
 * Loads a converted full-size folder on the CPU and asks two questions about one small image with
 * `steps` new tokens each (forced: EOS ids are the published ones, random weights rarely emit them).
 */
export async function runMqFullSizeCheck(modelDir: string, steps: number): Promise<MqFullSizeCheckReport> {
  const backend = new NodeOrtBackend();
  const model = await openMetaqueryFolder(modelDir, backend);
  try {
    const image = new Uint8Array(readFileSync(IMAGE));
    const ask = async (prompt: string): Promise<CallReport> => {
      const started = performance.now();
      const result = await model.understand({ image, prompt, maxTokens: steps, minPixels: PIXELS, maxPixels: PIXELS }).result;
      return {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        reusedImageCache: result.reusedImageCache,
        prefillMs: result.timings.prefillMs,
        decodeTokensPerSecond: result.timings.tokensPerSecond,
        totalMs: Math.round(performance.now() - started),
        rssAfterBytes: process.memoryUsage().rss,
      };
    };
    const first = await ask('Describe this image.');
    const followUp = await ask('What colour is the top left corner?');
    return { first, followUp };
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}
