import { z } from 'zod';
import {
  configEntriesSchema,
  deviceOrderSchema,
  freeDimensionOverridesSchema,
  graphOptimizationLevelSchema,
  logSeverityLevelSchema,
} from '../shared/parse-extra.js';

export const NODE_ORT_DEVICES = ['cuda', 'webgpu', 'cpu'] as const;
export type NodeOrtDevice = (typeof NODE_ORT_DEVICES)[number];

/** `init({ extra })` for node-ort. */
export const nodeOrtInitExtraSchema = z
  .object({
    /** The order `auto` tries (default cuda → webgpu → cpu); e.g. `['cuda', 'cpu']` never picks WebGPU. */
    autoOrder: deviceOrderSchema(NODE_ORT_DEVICES).optional(),
    /** GPU index for CUDA. */
    deviceId: z.number().int().nonnegative().optional(),
    /**
     * WebGPU only: leave `keepOnDevice` outputs in GPU buffers (IO binding). Off makes every
     * output come back to the CPU, an escape hatch should IO binding misbehave.
     */
    ioBinding: z.boolean().optional(),
  })
  .strict();
export type NodeOrtInitExtra = z.output<typeof nodeOrtInitExtraSchema>;

/** `createSession(graph, { extra })` for node-ort: ORT session options the SDK does not set itself. */
export const nodeOrtSessionExtraSchema = z
  .object({
    graphOptimizationLevel: graphOptimizationLevelSchema.optional(),
    interOpNumThreads: z.number().int().positive().optional(),
    enableCpuMemArena: z.boolean().optional(),
    enableMemPattern: z.boolean().optional(),
    logSeverityLevel: logSeverityLevelSchema.optional(),
    freeDimensionOverrides: freeDimensionOverridesSchema.optional(),
    /** Write the optimized graph here (debugging). */
    optimizedModelFilePath: z.string().min(1).optional(),
    /** ORT session config entries, e.g. `{ 'session.disable_cpu_ep_fallback': '1' }`. */
    configEntries: configEntriesSchema.optional(),
  })
  .strict();
export type NodeOrtSessionExtra = z.output<typeof nodeOrtSessionExtraSchema>;
