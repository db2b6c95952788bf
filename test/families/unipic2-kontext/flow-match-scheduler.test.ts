import { describe, expect, it } from 'vitest';
import { applyGuidance, eulerStep, flowMatchSchedule } from '../../../src/core/diffusion/flow-match-scheduler.js';

describe('FlowMatch Euler schedule (shift 3, static)', () => {
  it('reproduces the 50-step sigma table of the diffusers FlowMatchEulerDiscreteScheduler, double shift of the last sigma included', () => {
    const { sigmas, timesteps } = flowMatchSchedule(50);
    expect(sigmas.length).toBe(51);
    const head = [1.0, 0.993124, 0.986057, 0.97879];
    const tail = [0.170296, 0.120533, 0.0669, 0.008929, 0];
    head.forEach((v, i) => expect(sigmas[i]).toBeCloseTo(v, 6));
    tail.forEach((v, i) => expect(sigmas[46 + i]).toBeCloseTo(v, 6));
    expect(timesteps[0]).toBe(1000);
    for (let i = 0; i < 50; i++) expect(timesteps[i]).toBe(Math.fround(sigmas[i] * 1000));
  });

  it('reproduces the 28-step tail and a monotone table', () => {
    const { sigmas } = flowMatchSchedule(28);
    [0.278049, 0.199827, 0.110906, 0.008929].forEach((v, i) => expect(sigmas[24 + i]).toBeCloseTo(v, 6));
    for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]);
  });

  it('one step keeps the end point and the single-step table', () => {
    const { sigmas } = flowMatchSchedule(1);
    expect(Array.from(sigmas)).toEqual([1, 0]);
    expect(() => flowMatchSchedule(0)).toThrow(RangeError);
  });

  it('Euler step and guidance are float32 arithmetic', () => {
    const schedule = flowMatchSchedule(3);
    const x = new Float32Array([1, -2]);
    eulerStep(x, new Float32Array([0.5, 0.25]), schedule, 0);
    const dt = Math.fround(schedule.sigmas[1] - schedule.sigmas[0]);
    expect(x[0]).toBe(Math.fround(1 + Math.fround(dt * 0.5)));
    const guided = applyGuidance(new Float32Array([1]), new Float32Array([3]), 3.5);
    expect(guided[0]).toBe(8);
  });
});
