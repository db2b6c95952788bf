import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { openMetaqueryFolder } from '../../src/families/unipic2-metaquery/convert/open-metaquery-folder.js';
import type { MqGraphName } from '../../src/families/unipic2-metaquery/runtime/mq-graphs.js';

export type MqMemoryTask = 'understand' | 'generate' | 'edit';

export interface MqMemoryReport {
  readonly task: MqMemoryTask;
  readonly seconds: number;
  /** The process's peak RSS over the call (the kernel's high-water mark; one task per process). */
  readonly peakRssBytes: number;
  readonly rssAfterBytes: number;
  /** After `release()` of every VLM-side session: what stays for the Kontext transformer and VAE. */
  readonly rssAfterReleaseBytes: number;
}

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
 * One task of the Metaquery VLM side at 512² on the CPU, q4 language model: `understand` (the image
 * at the processor's default budget → 504×504, 324 image tokens, 4 new tokens), the `generate`
 * conditioning (prompt + negative rows, 256 queries each, conditioner) or the `edit` conditioning
 * (the image at 7/8 → 448×448, 256 image tokens, + 256 queries per row). Then every session is
 * released, as a low-memory pipeline does before the transformer runs.
 */
export async function measureMqMemory(modelDir: string, task: MqMemoryTask): Promise<MqMemoryReport> {
  const backend = new NodeOrtBackend();
  const model = await openMetaqueryFolder(modelDir, backend);
  const started = performance.now();
  try {
    const image = image512();
    if (task === 'understand') await model.understand({ image, prompt: 'Describe this image.', maxTokens: 4 }).result;
    else if (task === 'generate') await model.generateConditioning('a red fox in the snow, watercolour');
    else await model.editConditioning(image, 'make the disc blue');
    const seconds = (performance.now() - started) / 1000;
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const rssAfterBytes = process.memoryUsage().rss;
    for (const name of ['vision', 'embed', 'llm', 'lm_head', 'conditioner'] as MqGraphName[]) await model.release(name);
    (globalThis as { gc?: () => void }).gc?.();
    return { task, seconds, peakRssBytes, rssAfterBytes, rssAfterReleaseBytes: process.memoryUsage().rss };
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}
