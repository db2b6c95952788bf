import { describe, expect, it } from 'vitest';
import { inverseFrequencies } from '../../../src/convert/graphs/llm/rotary-embedding.js';
import { mropeAngles, mropePositions } from '../../../src/core/qwen-vl/mrope-positions.js';
import { visionRotaryAngles } from '../../../src/core/qwen-vl/vision-rotary.js';
import { windowLayout } from '../../../src/core/qwen-vl/window-index.js';
import { mqFloat, mqInt } from './support/goldens.js';

describe('Qwen2.5-VL positions against the oracle', () => {
  for (const prefix of ['understand.vision', 'edit.vision']) {
    it(`${prefix}: window index, cu_window_seqlens, cu_seqlens, 2-D rotary angles`, () => {
      const [, gh, gw] = mqInt(`${prefix}.grid_thw`);
      const layout = windowLayout(gh, gw);
      expect(Array.from(layout.windowIndex)).toEqual(mqInt(`${prefix}.window_index`));
      expect(layout.cuWindowSeqlens).toEqual(mqInt(`${prefix}.cu_window_seqlens`));
      expect(layout.cuSeqlens).toEqual(mqInt(`${prefix}.cu_seqlens`));
      // Vision head dim 16 → 8 angles per patch.
      expect(Array.from(visionRotaryAngles(gh, gw, 16))).toEqual(Array.from(mqFloat(`${prefix}.rotary_pos_emb`)));
    });
  }

  it('an exact multiple of the window adds no empty window (edit grid: 8 merge rows = 2 windows)', () => {
    const layout = windowLayout(16, 20);
    // 2 window rows × 3 window columns (4, 4, 2 units wide).
    expect(layout.cuWindowSeqlens).toEqual([0, 64, 128, 160, 224, 288, 320]);
  });

  it('M-RoPE 3-D positions and delta for the understanding prompt', () => {
    const ids = mqInt('understand.input_ids');
    const [, gh, gw] = mqInt('understand.vision.grid_thw');
    const { positions, delta } = mropePositions(ids, 151655, { gridH: gh, gridW: gw });
    const expected = mqInt('understand.position_ids');
    const s = ids.length;
    for (let row = 0; row < 3; row++) expect(Array.from(positions[row])).toEqual(expected.slice(row * s, (row + 1) * s));
    expect(delta).toBe(mqInt('understand.rope_deltas')[0]);
  });

  it('M-RoPE angles pick t/h/w rows by section; equal rows give 1-D RoPE', () => {
    const inv = inverseFrequencies(8, 1e6);
    const rows = [Int32Array.from([0, 1, 2]), Int32Array.from([0, 5, 6]), Int32Array.from([0, 7, 9])];
    const angles = mropeAngles(rows, [1, 1, 2], inv);
    expect(angles[4 + 0]).toBe(Math.fround(1 * inv[0]));
    expect(angles[4 + 1]).toBe(Math.fround(5 * inv[1]));
    expect(angles[4 + 2]).toBe(Math.fround(7 * inv[2]));
    expect(angles[4 + 3]).toBe(Math.fround(7 * inv[3]));
    const flat = mropeAngles([rows[0], rows[0], rows[0]], [1, 1, 2], inv);
    for (let s = 0; s < 3; s++) for (let f = 0; f < 4; f++) expect(flat[s * 4 + f]).toBe(Math.fround(s * inv[f]));
  });
});
