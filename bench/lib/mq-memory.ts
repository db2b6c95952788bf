import { UniPic } from '../../src/index.node.js';

export type MqMemoryTask = 'understand' | 'generate' | 'edit';

export interface MqMemoryReport {
  readonly task: MqMemoryTask;
  readonly lowMemory: boolean;
  readonly steps: number;
  readonly seconds: number;
  /**
   * The process's peak RSS (the kernel's high-water mark; one task per process) when the first
   * sampler graph was created: the VLM side's peak (`undefined` for understand).
   */
  readonly textSidePeakRssBytes?: number;
  /** The peak over the whole call. */
  readonly peakRssBytes: number;
  /** Sessions created and released, in order, with the RSS at each event. */
  readonly sessions: readonly { readonly event: 'create' | 'release'; readonly graph: string; readonly rssBytes: number }[];
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** 512×512 RGB with some structure (a gradient and a disc), so the vision tower sees varied patches. */
function image512(): { data: Uint8Array; width: number; height: number; channels: 3 } {
  const size = 512;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - 300) ** 2 + (y - 220) ** 2 < 120 ** 2;
      const i = (y * size + x) * 3;
      data[i] = inside ? 220 : (x * 255) / size;
      data[i + 1] = inside ? 60 : (y * 255) / size;
      data[i + 2] = inside ? 40 : 128;
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

/**
 * One whole task through the public API on the CPU at 512², in the folder's precisions:
 * `understand` (the image at the processor's default budget → 504×504, 324 image tokens, 4 new
 * tokens), `generate` (512×512: prompt and negative rows through the VLM with 256 queries each, the
 * conditioner, `steps` sampler steps, the VAE decode) or `edit` (the 512² image, the vision input
 * at 7/8 → 448×448, the reference latent, `steps` steps, decode). `lowMemory` frees the text side
 * before the transformer runs. A few steps suffice: every step holds the same sessions and buffers.
 */
export async function measureMqMemory(modelDir: string, task: MqMemoryTask, options: { lowMemory: boolean; steps: number }): Promise<MqMemoryReport> {
  const model = await UniPic.load(modelDir, { family: 'unipic2-metaquery', device: 'cpu', lowMemory: options.lowMemory });
  const sessions: { event: 'create' | 'release'; graph: string; rssBytes: number }[] = [];
  let textSidePeakRssBytes: number | undefined;
  model.on('session-create', ({ graph }) => {
    if (textSidePeakRssBytes === undefined && ['transformer', 'vae_encoder', 'vae_decoder', 'vae_decoder_strips'].includes(graph)) textSidePeakRssBytes = peakRss();
    sessions.push({ event: 'create', graph, rssBytes: process.memoryUsage().rss });
  });
  model.on('session-release', ({ graph }) => sessions.push({ event: 'release', graph, rssBytes: process.memoryUsage().rss }));
  const started = performance.now();
  try {
    const image = image512();
    if (task === 'understand') await model.understand({ image, prompt: 'Describe this image.', maxTokens: 4 }).result;
    else if (task === 'generate')
      await model.generate({ prompt: 'a red fox in the snow, watercolour', width: 512, height: 512, steps: options.steps, seed: 1 }).result;
    else await model.edit({ image, prompt: 'make the disc blue', steps: options.steps, seed: 1 }).result;
    return {
      task,
      lowMemory: options.lowMemory,
      steps: task === 'understand' ? 0 : options.steps,
      seconds: (performance.now() - started) / 1000,
      ...(textSidePeakRssBytes === undefined ? {} : { textSidePeakRssBytes }),
      peakRssBytes: peakRss(),
      sessions,
    };
  } finally {
    await model.dispose();
  }
}
