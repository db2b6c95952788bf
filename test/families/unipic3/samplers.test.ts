import { describe, expect, it } from 'vitest';
import { distilledStep, distilledTimes, distilledTimestep, roundToBfloat16 } from '../../../src/families/unipic3/sampling/distilled-sampler.js';
import { calculateShift, qwenSchedulerConfigFromJson } from '../../../src/families/unipic3/sampling/scheduler-config.js';
import { teacherModelTimestep, teacherSigmas, teacherStep } from '../../../src/families/unipic3/sampling/teacher-sampler.js';
import { trueCfgNormRescale } from '../../../src/families/unipic3/sampling/true-cfg.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNIPIC3_CHECKPOINT, golden, goldenFloat64, relativeError } from './support/unipic3-fixtures.js';

const config = qwenSchedulerConfigFromJson(JSON.parse(readFileSync(join(UNIPIC3_CHECKPOINT, 'scheduler', 'scheduler_config.json'), 'utf8')));

describe('UniPic-3 teacher sampler (vs diffusers FlowMatchEulerDiscreteScheduler)', () => {
  it.each([
    [50, 4096],
    [50, 12],
    [20, 1024],
  ])('σ table for %i steps at %i tokens is bit-exact', (steps, seqLen) => {
    expect(calculateShift(seqLen, config)).toBe(goldenFloat64(`sampler.teacher_mu.${steps}_${seqLen}`)[0]);
    expect(Array.from(teacherSigmas(steps, seqLen, config))).toEqual(Array.from(golden(`sampler.teacher_sigmas.${steps}_${seqLen}`).data));
  });

  it('one Euler step', () => {
    const out = teacherStep(golden('sampler.step.x').data, golden('sampler.step.v').data, teacherSigmas(50, 12, config), 3);
    expect(relativeError(out, golden('sampler.teacher_step.50_12_index_3').data)).toBeLessThan(1e-6);
  });

  it('feeds the model the bf16-rounded timestep of the official bf16 run', () => {
    expect(teacherModelTimestep(0.74318)).toBe(0.7421875);
    expect(teacherModelTimestep(1)).toBe(1);
  });

  it('refuses a static-shift scheduler config', () => {
    expect(() => qwenSchedulerConfigFromJson({ use_dynamic_shifting: false })).toThrow(/use_dynamic_shifting/);
  });
});

describe('UniPic-3 distilled x0 / re-noise sampler', () => {
  it.each([
    [8, 4096],
    [4, 4096],
    [8, 12],
  ])('times for %i steps at %i tokens', (steps, seqLen) => {
    const expected = goldenFloat64(`sampler.distilled_times.${steps}_${seqLen}`);
    const times = distilledTimes(steps, seqLen, config);
    for (let k = 0; k < expected.length; k++) expect(Math.abs(times[k] - expected[k])).toBeLessThan(1e-15);
  });

  it('one step with injected ε (and the last step returns x0)', () => {
    const times = distilledTimes(8, 12, config);
    expect(distilledTimestep(times, 2)).toBe(golden('sampler.distilled_step.8_12_index_2.tau').data[0]);
    const [x, v, noise] = ['x', 'v', 'noise'].map((n) => golden(`sampler.step.${n}`).data);
    expect(relativeError(distilledStep(x, v, noise, times, 2), golden('sampler.distilled_step.8_12_index_2').data)).toBeLessThan(1e-6);
    expect(relativeError(distilledStep(x, v, noise, times, 7), golden('sampler.distilled_step.8_12_index_7').data)).toBeLessThan(1e-6);
  });

  it('bf16 rounding is to nearest even', () => {
    expect(roundToBfloat16(0.74318)).toBe(0.7421875);
    expect(roundToBfloat16(1 + 2 ** -8)).toBe(1); // tie → even mantissa
    expect(roundToBfloat16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
  });
});

describe('true CFG with norm rescale', () => {
  it('matches the oracle at scale 4', () => {
    const out = trueCfgNormRescale(golden('sampler.cfg.cond').data, golden('sampler.cfg.uncond').data, 4, 64);
    expect(relativeError(out, golden('sampler.cfg.scale_4').data)).toBeLessThan(1e-6);
  });
});
