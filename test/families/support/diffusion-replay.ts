import { expect } from 'vitest';
import type { NoisePurpose, RandomSource } from '../../../src/core/random/random-source.js';

/**
 * A RandomSource that replays an oracle's injected draws: `draw(purpose)` names the golden for a
 * normal draw (an unexpected purpose throws); flow-matching runs make no uniform or order draws.
 */
export function replayDraws(draw: (purpose: NoisePurpose) => Float32Array | undefined): RandomSource {
  return {
    normal: (count: number, purpose: NoisePurpose) => {
      const data = draw(purpose);
      if (!data) throw new Error(`unexpected draw ${purpose.kind}`);
      expect(data.length).toBe(count);
      return data;
    },
    order: () => {
      throw new Error('no orders in a flow-matching run');
    },
    uniform: () => {
      throw new Error('no uniform draws in a flow-matching run');
    },
  };
}
