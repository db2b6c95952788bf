import { describe, expect, it } from 'vitest';
import { buildPositionTables, readLearnedPositionTables } from '../../../src/families/unipic1/convert/position-tables.js';
import tinyConfig from '../../../src/families/unipic1/convert/tiny/tiny-config.json';
import { readGoldenFloat, tinyCheckpointWeights } from '../graphs/mar/support/reference-fixtures.js';

/**
 * Position tables from the tiny checkpoint's learned tables against the oracle's (torch
 * F.interpolate in float64, stored float32). Both round one float64 result to float32, so they
 * must agree to the last bit save for float64 summation-order ties: allowed 1 float32 ulp.
 */
describe('position tables vs the PyTorch oracle', () => {
  it.each(tinyConfig.resolutions)('match for %i px', async (size) => {
    const weights = await tinyCheckpointWeights((key) => key.endsWith('_pos_embed_learned'));
    const layout = {
      bufferSize: tinyConfig.mar.buffer_size,
      nativeGrid: tinyConfig.mar.img_size / tinyConfig.mar.vae_stride,
      encoderWidth: tinyConfig.mar.encoder_embed_dim,
      decoderWidth: tinyConfig.mar.decoder_embed_dim,
    };
    const tables = buildPositionTables(readLearnedPositionTables(weights, layout), layout, size / tinyConfig.mar.vae_stride);
    const pairs: [Float32Array, string][] = [
      [tables.encoderPos, 'encoder_pos'],
      [tables.decoderPos, 'decoder_pos'],
      [tables.diffusionPos, 'diffusion_pos'],
    ];
    for (const [actual, name] of pairs) {
      const expected = await readGoldenFloat(`tables.${size}.${name}`);
      expect(actual.length).toBe(expected.data.length);
      for (let i = 0; i < actual.length; i++) {
        expect(Math.abs(actual[i] - expected.data[i])).toBeLessThanOrEqual(Math.abs(expected.data[i]) * 2 ** -23);
      }
    }
  });
});
