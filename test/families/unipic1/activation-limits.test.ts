import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceLimitError, UniPicError } from '../../../src/errors/index.js';
import { attentionHeadOps, marScoresBytes, vaeColumnBytes } from '../../../src/families/unipic1/model/activation-limits.js';
import type { ModelConfig } from '../../../src/families/unipic1/manifest.js';
import type { UniPic1Manifest } from '../../../src/families/unipic1/manifest.js';
import { UniPic } from '../../../src/index.node.js';
import { MockBackend } from '../../../src/testing/index.js';
import { tinyModelDir } from '../../support/tiny-model.js';

// Full size: generate at 1024 px builds [2, 16, 4160, 4160] float32 MAR scores (2.06 GiB), past
// SwiftShader's 1 GiB buffers and, with 1.6 GiB of q4 weights, wasm's 4 GiB. Faked on the tiny
// model (64 and 128 px) by limits between its sizes' scores; the calls must be refused before
// they are queued, with the smaller call that fits.
let folder: string;
let manifest: UniPic1Manifest;
/** The call passed the checks and was queued (the mock backend cannot run it: aborted at once). */
async function accepted(run: { abort(reason?: string): void; readonly result: Promise<unknown> }): Promise<void> {
  run.abort('checked only');
  await expect(run.result).rejects.toMatchObject({ code: 'ABORTED' });
}
/** The error a call threw as it was made (refused before it was queued); fails when it was accepted. */
function refused(call: () => unknown): ResourceLimitError {
  try {
    call();
  } catch (error) {
    return error as ResourceLimitError;
  }
  throw new Error('accepted');
}
const image = (size: number) => ({ data: new Uint8Array(size * size * 3).fill(100), width: size, height: size, channels: 3 as const });

beforeAll(async () => {
  folder = await tinyModelDir(['fp32']);
  manifest = JSON.parse(await readFile(join(folder, 'unipic.json'), 'utf8')) as UniPic1Manifest;
}, 180_000);

describe('MAR attention scores past the device limits (UniPic-1, at the call)', () => {
  it('WebGPU: a size whose scores pass maxBufferBytes is refused with the size that fits, which is accepted', async () => {
    const large = marScoresBytes(manifest.config, 'generate', { size: 128, guidance: 3 });
    const small = marScoresBytes(manifest.config, 'generate', { size: 64, guidance: 3 });
    expect(large.bytes).toBeGreaterThan(small.bytes);
    const limit = Math.floor((large.bytes + small.bytes) / 2);
    const backend = new MockBackend({ devices: ['webgpu'], fp16: true, limits: { maxBufferBytes: limit } });
    const model = await UniPic.load(folder, { backend, dtype: 'fp32' });
    try {
      let error: unknown;
      try {
        model.generate({ prompt: 'a fox', size: 128, steps: 1, diffusionSteps: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ResourceLimitError);
      const details = (error as ResourceLimitError).details;
      expect(details).toEqual({
        limit: 'maxBufferBytes',
        limitBytes: limit,
        bytes: large.bytes,
        graph: 'mar_decoder',
        device: 'webgpu',
        task: 'generate',
        size: 128,
      });
      expect((error as Error).message).toMatch(
        /^generate at 128 px builds MAR attention scores .* \(2 rows × \d+ heads × \d+² float32\), but webgpu here allocates buffers of at most .*; use size 64, or /,
      );
      expect(UniPicError.fromJSON(JSON.parse(JSON.stringify(error))).details).toEqual(details);
      // Nothing was queued or created for the refused call.
      expect(model.pendingCalls).toBe(0);
      expect(backend.sessionsCreated).toHaveLength(0);
      // The default size is the largest (128 here, 1024 at full size): refused the same way.
      expect(() => model.generate({ prompt: 'a fox', steps: 1 })).toThrow(ResourceLimitError);
      // Understanding encodes one row: under the same limit it fits at 128.
      expect(marScoresBytes(manifest.config, 'understand', { size: 128 }).bytes).toBeLessThanOrEqual(limit);
      await accepted(model.generate({ prompt: 'a fox', size: 64, steps: 1 }));
      await accepted(model.understand({ image: image(128), size: 128, maxTokens: 1 }));
    } finally {
      await model.dispose();
    }
  }, 180_000);

  it('guidance 1 (one row) is offered when it fits, and fits', async () => {
    const twoRows = marScoresBytes(manifest.config, 'generate', { size: 128, guidance: 3 });
    const oneRow = marScoresBytes(manifest.config, 'generate', { size: 128, guidance: 1 });
    expect(twoRows.bytes).toBe(2 * oneRow.bytes);
    const backend = new MockBackend({ devices: ['webgpu'], fp16: true, limits: { maxBufferBytes: oneRow.bytes } });
    const model = await UniPic.load(folder, { backend, dtype: 'fp32', capabilities: ['generate'] });
    try {
      expect(() => model.generate({ prompt: 'a fox', size: 128 })).toThrow(/use size 64, or guidance 1 \(one row per image\), or Node/);
      await accepted(model.generate({ prompt: 'a fox', size: 128, guidance: 1, steps: 1 }));
    } finally {
      await model.dispose();
    }
  }, 180_000);

  it('wasm: twice the scores plus the task weights past maxResidentBytes are refused as maxResidentBytes', async () => {
    const backend = new MockBackend({ devices: ['wasm'], limits: { maxResidentBytes: 2 ** 32 } });
    const probe = await UniPic.load(folder, { backend, dtype: 'fp32', capabilities: ['understand'] });
    await probe.dispose();
    const scores = marScoresBytes(manifest.config, 'understand', { size: 128 });
    // A limit just under weights + twice the scores at 128 px, well over them at 64 px.
    const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
    const files = new Set(
      ['embed', 'llm', 'lm_head', 'mar_encoder', 'vae_encoder'].flatMap((graph) => {
        const v = manifest.graphs[graph as 'llm']!.fp32!;
        return [v.file, ...v.externalData];
      }),
    );
    const weights = [...files].reduce((sum, file) => sum + sizes.get(file)!, 0);
    const limited = new MockBackend({ devices: ['wasm'], limits: { maxResidentBytes: weights + 2 * scores.bytes - 1 } });
    const model = await UniPic.load(folder, { backend: limited, dtype: 'fp32', capabilities: ['understand'] });
    try {
      let error: unknown;
      try {
        model.understand({ image: image(128), size: 128, maxTokens: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ResourceLimitError);
      expect((error as ResourceLimitError).details).toMatchObject({
        limit: 'maxResidentBytes',
        bytes: weights + 2 * scores.bytes,
        graph: 'mar_encoder',
        task: 'understand',
        size: 128,
      });
      expect((error as Error).message).toMatch(
        /\(1 row × \d+ heads × \d+² float32\), which, reserved twice \(measured: once is not enough\) beside this task's .* of weights, passes the .* wasm holds; use size 64, or Node/,
      );
      await accepted(model.understand({ image: image(64), size: 64, maxTokens: 1 }));
    } finally {
      await model.dispose();
    }
  }, 180_000);
});

describe("one-shot VAE graphs past wasm's address space (folders without strip graphs)", () => {
  // Full size: the one-shot vae_encoder at 1024 px unfolds its 128-channel convolutions into 4.5 GiB
  // (measured in Chromium: ORT's SafeInt overflow two minutes into the call). Faked on the tiny model
  // with a limit between its two sizes' column buffers, on a copy of its folder whose manifest
  // predates the strip graphs.
  it('refuses understand / generate / edit at the size whose column buffer passes maxResidentBytes, names the graph, and offers reconversion', async () => {
    const old = await mkdtemp(join(tmpdir(), 'unipic-no-strips-'));
    try {
      for (const entry of await readdir(folder)) if (entry !== 'unipic.json') await symlink(join(folder, entry), join(old, entry));
      const { stripEncoder, stripDecoder, ...rest } = manifest as UniPic1Manifest & { stripEncoder?: unknown; stripDecoder?: unknown };
      expect(stripEncoder).toBeDefined();
      expect(stripDecoder).toBeDefined();
      await writeFile(join(old, 'unipic.json'), JSON.stringify(rest));
      const limit = Math.floor((vaeColumnBytes(64) + vaeColumnBytes(128)) / 2);
      const backend = new MockBackend({ devices: ['wasm'], limits: { maxResidentBytes: limit } });
      const model = await UniPic.load(old, { backend, dtype: 'fp32' });
      try {
        const understand = refused(() => model.understand({ image: image(128), size: 128, maxTokens: 1 }));
        expect(understand).toBeInstanceOf(ResourceLimitError);
        expect(understand.details).toEqual({
          limit: 'maxResidentBytes',
          limitBytes: limit,
          bytes: vaeColumnBytes(128),
          graph: 'vae_encoder',
          device: 'wasm',
          size: 128,
        });
        expect(understand.message).toMatch(
          /^this folder's vae_encoder runs the whole 128 px image at once, .* convert the checkpoint again with this version \(it adds strip VAE graphs\), or use size 64, or use Node$/,
        );
        expect(refused(() => model.generate({ prompt: 'a fox', size: 128, steps: 1 })).details).toMatchObject({ graph: 'vae_decoder' });
        expect(refused(() => model.edit({ image: image(128), prompt: 'a fox', size: 128, steps: 1 })).details).toMatchObject({ graph: 'vae_encoder' });
        expect(model.pendingCalls).toBe(0);
        await accepted(model.understand({ image: image(64), size: 64, maxTokens: 1 }));
        await accepted(model.generate({ prompt: 'a fox', size: 64, steps: 1 }));
      } finally {
        await model.dispose();
      }
      // The same limit with the strip graphs present: accepted at 128 px.
      const current = await UniPic.load(folder, { backend: new MockBackend({ devices: ['wasm'], limits: { maxResidentBytes: limit } }), dtype: 'fp32' });
      try {
        await accepted(current.understand({ image: image(128), size: 128, maxTokens: 1 }));
        await accepted(current.generate({ prompt: 'a fox', size: 128, steps: 1 }));
      } finally {
        await current.dispose();
      }
    } finally {
      await rm(old, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("fused attention past wasm's 32-bit operation counter (at the call)", () => {
  // Full size on onnxruntime-web's wasm build (measured in Node, the same build Chromium runs):
  // understand at 1024 px failed with ORT's SafeInt "Integer overflow" a minute into the strip VAE
  // encoder's tail, in its attention at the latent grid (4096 positions × 512 channels: 1.7e10 operations
  // per head); mar_encoder (4160 tokens × 80) is past the limit too. 512 px is under it everywhere.
  const fullSize = { mar: { bufferSize: 64, vaeStride: 16, encoderWidth: 1280, encoderHeads: 16, decoderWidth: 1280, decoderHeads: 16 } } as ModelConfig;
  const limit = 2 ** 31 - 1;

  it('full size: every attention of every task is past 2³¹ − 1 at 1024 px and under it at 512 px', () => {
    for (const task of ['understand', 'generate', 'edit'] as const) {
      const at1024 = attentionHeadOps(fullSize, task, 1024);
      expect(at1024.every((head) => head.ops > limit)).toBe(true);
      expect(attentionHeadOps(fullSize, task, 512).every((head) => head.ops <= limit)).toBe(true);
    }
    expect(attentionHeadOps(fullSize, 'understand', 1024)).toEqual([
      { graph: 'mar_encoder', tokens: 4160, headSize: 80, ops: 2 * 4160 ** 2 * 80 },
      { graph: 'vae_encoder', tokens: 4096, headSize: 512, ops: 2 * 4096 ** 2 * 512 },
    ]);
    expect(attentionHeadOps(fullSize, 'generate', 1024).map((head) => head.graph)).toEqual(['mar_decoder', 'vae_decoder']);
    expect(attentionHeadOps(fullSize, 'edit', 1024).map((head) => head.graph)).toEqual(['mar_decoder', 'vae_encoder', 'vae_decoder']);
  });

  it('refuses understand / generate / edit past maxAttentionHeadOps with the size that fits, and accepts that size', async () => {
    // A limit that 64 px meets in every graph and 128 px passes (faked on the tiny model).
    const limitOps = Math.max(...(['understand', 'generate', 'edit'] as const).flatMap((task) => attentionHeadOps(manifest.config, task, 64).map((h) => h.ops)));
    const backend = new MockBackend({ devices: ['wasm'], limits: { maxAttentionHeadOps: limitOps } });
    const model = await UniPic.load(folder, { backend, dtype: 'fp32' });
    try {
      const understand = refused(() => model.understand({ image: image(128), size: 128, maxTokens: 1 }));
      expect(understand).toBeInstanceOf(ResourceLimitError);
      const first = attentionHeadOps(manifest.config, 'understand', 128).find((h) => h.ops > limitOps)!;
      expect(understand.details).toEqual({
        limit: 'maxAttentionHeadOps',
        limitOps,
        ops: first.ops,
        graph: first.graph,
        device: 'wasm',
        task: 'understand',
        size: 128,
      });
      expect(understand.message).toMatch(
        new RegExp(
          `^understand at 128 px runs attention over ${first.tokens} positions \\(head size ${first.headSize}\\) in ${first.graph}: .* operations per head, but ONNX Runtime's attention kernel on wasm counts at most ${limitOps} \\(a 32-bit integer\\); use size 64, or WebGPU or Node$`,
        ),
      );
      expect(UniPicError.fromJSON(JSON.parse(JSON.stringify(understand))).details).toEqual(understand.details);
      expect(refused(() => model.generate({ prompt: 'a fox', size: 128, guidance: 1, steps: 1 })).details).toMatchObject({ task: 'generate' });
      expect(refused(() => model.edit({ image: image(128), prompt: 'a fox', size: 128, steps: 1 })).details).toMatchObject({ task: 'edit' });
      expect(model.pendingCalls).toBe(0);
      expect(backend.sessionsCreated).toHaveLength(0);
      await accepted(model.understand({ image: image(64), size: 64, maxTokens: 1 }));
      await accepted(model.generate({ prompt: 'a fox', size: 64, steps: 1 }));
      await accepted(model.edit({ image: image(64), prompt: 'a fox', size: 64, steps: 1 }));
    } finally {
      await model.dispose();
    }
  }, 180_000);
});
