import type { DiffusionResult, DiffusionRunEvent, DiffusionTimings } from '../../../core/diffusion/diffusion-events.js';

/** Kontext's public names for the shared sampler's events and result. */
export type KontextRunEvent = DiffusionRunEvent;
export type KontextTimings = DiffusionTimings;
export type KontextResult = DiffusionResult;
