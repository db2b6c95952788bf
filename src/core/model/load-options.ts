import { z } from 'zod';
import type { Backend } from '../../spec/backend.js';
import { CAPABILITIES, DTYPES } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import { signalSchema } from '../options/common.js';
import { sourceOptionsSchema, type SourceOptions } from '../sources/source-options.js';

const dtypeSchema = z.enum(DTYPES);

export const loadOptionsSchema = z
  .object({
    /** `auto` tries the adapter's devices in priority order (Node: cuda → webgpu → cpu; browser: webgpu → wasm). */
    device: z.enum(['auto', 'cuda', 'webgpu', 'cpu', 'wasm']).default('auto'),
    /**
     * One dtype for all graphs, a per-graph map (graph names are the family's; one the model lacks
     * is ignored), or `auto` (the device's fallback chain).
     */
    dtype: z.union([z.literal('auto'), dtypeSchema, z.record(z.string(), dtypeSchema)]).default('auto'),
    /** A ready backend (custom adapter, the mock in tests) or the name of a bundled adapter. */
    backend: z
      .union([
        z.enum(['node-ort', 'web-ort']),
        z.custom<Backend>((v) => typeof v === 'object' && v !== null && typeof (v as Backend).createSession === 'function', {
          message: 'expected a Backend',
        }),
      ])
      .optional(),
    /**
     * The family the caller expects (`unipic1`, `unipic2-kontext`, …): types the loaded model as that
     * family's and refuses a folder of another family before anything else is read.
     */
    family: z.string().min(1).optional(),
    /** Which capabilities to prepare (their files are fetched at load). Default: all the model has. */
    capabilities: z.array(z.enum(CAPABILITIES)).min(1).optional(),
    /** Create every session during load instead of on first use. */
    eager: z.boolean().default(false),
    /**
     * After creating sessions (implies `eager`), run the small per-token graphs (embed, lm_head,
     * diffusion_head) once, so a GPU compiles their kernels before the first call.
     */
    warmup: z.boolean().default(false),
    /**
     * Free the graphs a call needs only at its start (text encoders, a VLM: the family decides) as
     * soon as the call is done with them; the next call creates them again. Lower peak memory,
     * slower calls (one session creation per freed graph per call). Outputs are unchanged.
     */
    lowMemory: z.boolean().default(false),
    onProgress: z.custom<LoadProgressCallback>((v) => typeof v === 'function', { message: 'expected a function' }).optional(),
    signal: signalSchema.optional(),
    /** Where files come from: cache, offline, network retries/timeouts, verification (docs/loading.md). */
    ...sourceOptionsSchema.shape,
    /** CPU/wasm threads per session (adapter default when absent). */
    threads: z.number().int().min(1).max(256).optional(),
    /** Adapter-specific settings (e.g. web-ort `wasmPaths`), validated by the adapter. */
    backendOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type LoadOptions = z.input<typeof loadOptionsSchema>;
export type ParsedLoadOptions = z.output<typeof loadOptionsSchema>;

/** The source-related part of parsed load options, as the platform needs it. */
export function sourceOptionsOf(options: ParsedLoadOptions): SourceOptions {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(sourceOptionsSchema.shape)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as SourceOptions;
}
