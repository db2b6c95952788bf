import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { convertUnipic3Graphs } from '../../../src/families/unipic3/convert/convert-unipic3-graphs.js';
import { qwenRopeTables } from '../../../src/families/unipic3/latents/rope-tables.js';
import { UNIPIC3_CHECKPOINT, golden, relativeError } from './support/unipic3-fixtures.js';

/**
 * The streamed converter on the tiny published-layout checkpoint: graphs written to disk with
 * external data, then chained through onnxruntime-node against the diffusers goldens.
 * Measured: fp32 ≤ 2e-6; fp16 2.9e-7 (the bf16-stored weights are exact in fp16 and the CPU EP
 * lost no precision on these MatMuls — says nothing about GPU fp16); q4 9.5e-2 relative, cosine 0.9963 — a sanity bound on
 * 4-bit blocks of a 48-wide random model, not a fidelity claim.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const tensor = (name: string): ort.Tensor => {
  const g = golden(name);
  return new ort.Tensor('float32', g.data, g.shape);
};

async function run(dir: string, file: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(join(dir, file));
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

async function chain(dir: string, dtype: string, blocksPerGraph = 1): Promise<Float32Array> {
  const start = await run(dir, `transformer_in.${dtype}.onnx`, {
    latents: tensor('transformer.hidden_states'),
    prompt_embeds: tensor('transformer.encoder_hidden_states'),
    timestep: tensor('transformer.timestep'),
  });
  const tables = qwenRopeTables(
    [
      { height: 3, width: 4 },
      { height: 2, width: 3 },
      { height: 3, width: 3 },
    ],
    5,
    [8, 4, 4],
  );
  const rope = {
    image_rope_cos: new ort.Tensor('float32', tables.imageCos, [27, 8]),
    image_rope_sin: new ort.Tensor('float32', tables.imageSin, [27, 8]),
    text_rope_cos: new ort.Tensor('float32', tables.textCos, [5, 8]),
    text_rope_sin: new ort.Tensor('float32', tables.textSin, [5, 8]),
  };
  let image = start.image;
  let text = start.text;
  for (let first = 0; first < 2; first += blocksPerGraph) {
    const last = Math.min(first + blocksPerGraph, 2) - 1;
    const out = await run(dir, `transformer_blocks_${first}_${last}.${dtype}.onnx`, { image, text, temb: start.temb, ...rope });
    image = out.image_out;
    text = out.text_out;
  }
  const out = await run(dir, `transformer_out.${dtype}.onnx`, { image, temb: start.temb });
  return (out.velocity.data as Float32Array).subarray(0, 12 * 16);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

describe('convertUnipic3Graphs (streamed, tiny checkpoint)', () => {
  it.each(['transformer', 'ema_transformer'])('fp32 graphs from %s reproduce diffusers end to end', async (folder) => {
    const dir = mkdtempSync(join(tmpdir(), 'unipic3-convert-'));
    dirs.push(dir);
    const summary = await convertUnipic3Graphs(UNIPIC3_CHECKPOINT, dir, { dtype: 'fp32', blocksPerGraph: 1, transformerFolder: folder });
    expect(summary.files.filter((f) => f.endsWith('.onnx'))).toEqual([
      'transformer_in.fp32.onnx',
      'transformer_blocks_0_0.fp32.onnx',
      'transformer_blocks_1_1.fp32.onnx',
      'transformer_out.fp32.onnx',
      'vae_encoder.fp32.onnx',
      'vae_decoder.fp32.onnx',
    ]);
    expect(summary.dropped).toHaveLength(8);
    expect(relativeError(await chain(dir, 'fp32'), golden('transformer.output_target').data)).toBeLessThan(1e-4);
    const decoded = await run(dir, 'vae_decoder.fp32.onnx', { latents: tensor('vae.decoder_input_normalized') });
    expect(relativeError(decoded.pixels.data as Float32Array, golden('vae.decoded').data)).toBeLessThan(1e-4);
  });

  it('external modulation writes transformer_modulation and blocks graphs without img_mod/txt_mod', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unipic3-convert-mod-'));
    dirs.push(dir);
    const summary = await convertUnipic3Graphs(UNIPIC3_CHECKPOINT, dir, { dtype: 'fp32', blocksPerGraph: 2, modulation: 'external' });
    expect(summary.files).toContain('transformer_modulation.fp32.onnx');
    const session = await ort.InferenceSession.create(join(dir, 'transformer_blocks_0_1.fp32.onnx'));
    try {
      expect(session.inputNames).not.toContain('temb');
      expect(session.inputNames).toEqual(expect.arrayContaining(['modulation.0.img', 'modulation.1.txt']));
    } finally {
      await session.release();
    }
  });

  it.each([
    ['fp16', 1e-2],
    ['q4', 0.2],
  ] as const)('%s transformer graphs track the float32 reference', async (dtype, tolerance) => {
    const dir = mkdtempSync(join(tmpdir(), `unipic3-convert-${dtype}-`));
    dirs.push(dir);
    await convertUnipic3Graphs(UNIPIC3_CHECKPOINT, dir, { dtype, blocksPerGraph: 2 });
    const expected = golden('transformer.output_target').data;
    const actual = await chain(dir, dtype, 2);
    expect(relativeError(actual, expected)).toBeLessThan(tolerance);
    expect(cosine(actual, expected)).toBeGreaterThan(0.99);
  });
});
