import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceLimitError, UniPicError } from '../../../src/errors/index.js';
import { marScoresBytes, vaeColumnBytes } from '../../../src/families/unipic1/model/activation-limits.js';
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
        const refused = (call: () => unknown) => {
          try {
            call();
          } catch (error) {
            return error as ResourceLimitError;
          }
          throw new Error('accepted');
        };
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
