import { z } from 'zod';
import {
  configEntriesSchema,
  deviceOrderSchema,
  freeDimensionOverridesSchema,
  graphOptimizationLevelSchema,
  logSeverityLevelSchema,
} from '../shared/parse-extra.js';

export const WEB_ORT_DEVICES = ['webgpu', 'wasm'] as const;
export type WebOrtDevice = (typeof WEB_ORT_DEVICES)[number];

const urlString = z.union([z.string().min(1), z.instanceof(URL).transform((url) => url.href)]);

/** `init({ extra })` for web-ort. These set `ort.env.wasm`, which ORT reads once, at its first session. */
export const webOrtInitExtraSchema = z
  .object({
    /** The order `auto` tries (default webgpu → wasm). */
    autoOrder: deviceOrderSchema(WEB_ORT_DEVICES).optional(),
    /**
     * Where ORT fetches its `.wasm` / `.mjs` runtime files: a folder URL ending in `/`, or each
     * file's URL. Default: beside the ORT bundle (what your bundler emitted).
     */
    wasmPaths: z.union([urlString, z.object({ wasm: urlString.optional(), mjs: urlString.optional() }).strict()]).optional(),
    /**
     * WebAssembly threads; 0 lets ORT decide (half the cores when the page is cross-origin
     * isolated, else 1). Default 1 in Node, ORT's choice in browsers.
     */
    numThreads: z.number().int().nonnegative().optional(),
  })
  .strict();
export type WebOrtInitExtra = z.output<typeof webOrtInitExtraSchema>;

/** `createSession(graph, { extra })` for web-ort. */
export const webOrtSessionExtraSchema = z
  .object({
    graphOptimizationLevel: graphOptimizationLevelSchema.optional(),
    enableCpuMemArena: z.boolean().optional(),
    enableMemPattern: z.boolean().optional(),
    logSeverityLevel: logSeverityLevelSchema.optional(),
    freeDimensionOverrides: freeDimensionOverridesSchema.optional(),
    /** ORT session config entries, e.g. `{ 'session.set_denormal_as_zero': '1' }`. */
    configEntries: configEntriesSchema.optional(),
  })
  .strict();
export type WebOrtSessionExtra = z.output<typeof webOrtSessionExtraSchema>;
