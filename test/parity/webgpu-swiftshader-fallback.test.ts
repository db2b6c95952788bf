import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { UniPic } from '../../src/index.node.js';
import { goldenInt64, goldenUint8, referenceModelDir } from '../support/reference.js';

// WebGPU without shader-f16 (SwiftShader, as in Chromium here): the adapter reports fp16: false and
// `auto` walks the documented WebGPU chain q4f16 → q4 → fp16 → fp32, skipping the half-precision
// variants; this folder has no q4, so every graph lands on fp32 and still reproduces the oracle.
// Dawn reads VK_ICD_FILENAMES once: set for this file's own process (vitest pool: forks).
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasVulkanLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some((path) => existsSync(path));
const available = existsSync(SWIFTSHADER_ICD) && hasVulkanLoader;
if (available) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

if (!available) {
  describe('WebGPU without shader-f16 (SwiftShader)', () => {
    it.skip(`skipped: needs ${SWIFTSHADER_ICD} (Debian chromium) and libvulkan1`, () => {});
  });
} else {
  let dir: string;
  beforeAll(async () => {
    dir = await referenceModelDir(undefined, ['fp32', 'fp16', 'q4f16']);
  }, 180_000);

  describe('WebGPU without shader-f16 (SwiftShader): the documented dtype fallback', () => {
    it('auto skips fp16/q4f16, picks fp32 without a warning, and understands like the oracle', async () => {
      const backend = new NodeOrtBackend();
      const model = await UniPic.load(dir, { backend, device: 'webgpu' });
      try {
        expect(model.backendInfo.device).toBe('webgpu');
        expect(model.backendInfo.fp16).toBe(false);
        expect(new Set(Object.values(model.dtypes))).toEqual(new Set(['fp32']));
        expect(model.loadWarnings).toEqual([]);
        const result = await model.understand({
          image: { data: goldenUint8('understand_64.source.image'), width: 64, height: 64, channels: 3 },
          size: 64,
          maxTokens: 2,
          repetitionPenalty: 1,
        }).result;
        expect(result.tokens).toEqual(goldenInt64('understand_64.greedy.token_ids').slice(0, 2));
      } finally {
        await model.dispose();
        await backend.dispose();
      }
    }, 180_000);

    it('an explicit q4f16 is refused at load (its kernels would fail at the first run, after the download)', async () => {
      const backend = new NodeOrtBackend();
      try {
        const error = await UniPic.load(dir, { backend, device: 'webgpu', dtype: 'q4f16' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionsError);
        expect((error as Error).message).toMatch(/webgpu here has no shader-f16.*llm \(q4f16\)/);
      } finally {
        await backend.dispose();
      }
    }, 180_000);
  });
}
