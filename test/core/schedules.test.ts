import { describe, expect, it } from 'vitest';
import { respacedCosineTables, spaceTimesteps } from '../../src/families/unipic1/diffusion/schedule.js';
import { planSteps } from '../../src/families/unipic1/mar/mask-schedule.js';

// Oracle: the 100-step respaced timesteps and the per-step MAR token counts, computed from the official
// numpy code (`gaussian_diffusion.py` respacing, the MAR mask schedule).
const APPENDIX_A = `0 10 20 30 40 50 61 71 81 91 101 111 121 131 141 151 161 172 182 192 202 212 222 232 242
252 262 272 283 293 303 313 323 333 343 353 363 373 383 394 404 414 424 434 444 454 464
474 484 494 505 515 525 535 545 555 565 575 585 595 605 616 626 636 646 656 666 676 686
696 706 716 727 737 747 757 767 777 787 797 807 817 827 838 848 858 868 878 888 898 908
918 928 938 949 959 969 979 989 999`
  .split(/\s+/)
  .map(Number);

const COUNTS_4096 = `0:0/5 1:5/15 2:20/25 3:45/34 4:79/44 5:123/54 6:177/63 7:240/72 8:312/82 9:394/90
10:484/99 11:583/108 12:691/116 13:807/123 14:930/132 15:1062/138 16:1200/146
17:1346/152 18:1498/159 19:1657/164 20:1821/170 21:1991/175 22:2166/179 23:2345/184
24:2529/188 25:2717/190 26:2907/194 27:3101/196 28:3297/198 29:3495/200 30:3695/201
31:3896/200`;
const COUNTS_1024 = `0:0/2 1:2/3 2:5/7 3:12/8 4:20/11 5:31/14 6:45/15 7:60/18 8:78/21 9:99/22 10:121/25
11:146/27 12:173/29 13:202/31 14:233/33 15:266/34 16:300/37 17:337/38 18:375/40
19:415/41 20:456/42 21:498/44 22:542/45 23:587/46 24:633/47 25:680/47 26:727/49
27:776/49 28:825/49 29:874/50 30:924/50 31:974/50`;

function parseCounts(text: string) {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((cell) => {
      const [step, rest] = cell.split(':');
      const [known, predicted] = rest.split('/');
      return { step: Number(step), known: Number(known), predicted: Number(predicted) };
    });
}

describe('diffusion schedule', () => {
  it('respaces 1000 steps to the 100 of Appendix A exactly', () => {
    expect(spaceTimesteps(1000, 100)).toEqual(APPENDIX_A);
  });

  it('matches the Appendix A check values (max_beta 0.2)', () => {
    const t = respacedCosineTables({ numTimesteps: 1000, steps: 100, maxBeta: 0.2 });
    // The spec prints 4-5 significant digits; compare at that precision.
    const close = (actual: number, expected: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(5e-4);
    close(t.betas[0], 4.128e-5);
    close(t.betas[1], 6.798e-4);
    close(t.betas[99], 0.89128);
    close(t.alphasCumprod[99], 2.6403e-5);
    expect(t.posteriorVariance[0]).toBe(0);
    close(t.posteriorVariance[1], 3.892e-5);
    close(t.posteriorVariance[2], 4.457e-4);
    close(t.posteriorVariance[99], 0.89109);
    expect(t.posteriorLogVarianceClipped[0]).toBe(t.posteriorLogVarianceClipped[1]);
    expect(Array.from(t.timesteps)).toEqual(APPENDIX_A);
  });

  it('uses the clip only at the last base steps (Harmon 0.999 differs only there)', () => {
    const unipic = respacedCosineTables({ numTimesteps: 1000, steps: 100, maxBeta: 0.2 });
    const harmon = respacedCosineTables({ numTimesteps: 1000, steps: 100, maxBeta: 0.999 });
    expect(unipic.betas[50]).toBe(harmon.betas[50]);
    expect(unipic.alphasCumprod[99]).not.toBe(harmon.alphasCumprod[99]);
  });
});

describe('mask schedule', () => {
  it.each([
    [4096, COUNTS_4096],
    [1024, COUNTS_1024],
  ])('N=%i, 32 iterations matches the spec table', (n, table) => {
    const plan = planSteps(n, 32);
    expect(plan.map(({ step, known, predicted }) => ({ step, known, predicted }))).toEqual(parseCounts(table));
    expect(plan.reduce((sum, s) => sum + s.predicted, 0)).toBe(n);
  });

  it('predicts every token exactly once for any iteration count', () => {
    for (const iterations of [1, 2, 4, 64]) {
      const plan = planSteps(16, iterations);
      expect(plan.reduce((sum, s) => sum + s.predicted, 0)).toBe(16);
    }
  });
});
