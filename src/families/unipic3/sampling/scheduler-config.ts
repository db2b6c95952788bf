import { InvalidModelError } from '../../../errors/invalid-model-error.js';

/** `scheduler/scheduler_config.json` of Qwen-Image-Edit (used by the teacher and the distilled repos). */
export interface QwenSchedulerConfig {
  readonly baseImageSeqLen: number;
  readonly maxImageSeqLen: number;
  readonly baseShift: number;
  readonly maxShift: number;
  readonly shiftTerminal: number;
}

/** Qwen-Image-Edit's published `scheduler_config.json`. */
export const QWEN_IMAGE_SCHEDULER: QwenSchedulerConfig = {
  baseImageSeqLen: 256,
  maxImageSeqLen: 8192,
  baseShift: 0.5,
  maxShift: 0.9,
  shiftTerminal: 0.02,
};

/**
 * Reads the config and refuses anything the samplers here do not implement (static shifting,
 * linear time shift, Karras/beta/exponential sigma spacing, stochastic sampling, inverted sigmas).
 */
export function qwenSchedulerConfigFromJson(json: Record<string, unknown>): QwenSchedulerConfig {
  const expect = (key: string, value: unknown): void => {
    if (key in json && json[key] !== value) {
      throw new InvalidModelError(`scheduler_config.json: ${key} = ${JSON.stringify(json[key])} is not supported (expected ${JSON.stringify(value)})`);
    }
  };
  expect('use_dynamic_shifting', true);
  expect('time_shift_type', 'exponential');
  expect('shift', 1.0);
  expect('num_train_timesteps', 1000);
  for (const flag of ['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'stochastic_sampling', 'invert_sigmas']) expect(flag, false);
  const number = (key: string, fallback: number): number => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidModelError(`scheduler_config.json: ${key} must be a number`);
    return value;
  };
  const config = {
    baseImageSeqLen: number('base_image_seq_len', 256),
    maxImageSeqLen: number('max_image_seq_len', 4096),
    baseShift: number('base_shift', 0.5),
    maxShift: number('max_shift', 1.15),
    shiftTerminal: number('shift_terminal', 0),
  };
  if (config.maxImageSeqLen === config.baseImageSeqLen) throw new InvalidModelError('scheduler_config.json: max_image_seq_len equals base_image_seq_len');
  return config;
}

/** μ of the dynamic shift, linear in the target's packed token count (pipeline `calculate_shift`). */
export function calculateShift(imageSeqLen: number, config: QwenSchedulerConfig = QWEN_IMAGE_SCHEDULER): number {
  const slope = (config.maxShift - config.baseShift) / (config.maxImageSeqLen - config.baseImageSeqLen);
  return imageSeqLen * slope + (config.baseShift - slope * config.baseImageSeqLen);
}
