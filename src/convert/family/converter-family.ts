import type { Dtype, Manifest } from '../../spec/manifest.js';
import type { HubCheckpointFamily } from '../hub/convert-from-hub.js';
import type { LoadProgressCallback } from '../../spec/progress.js';

/** Options every family's converter takes; a family adds its own (UniPic-1: resolutions, fusedSampler). */
export interface CommonConvertOptions {
  /** Precisions to write (default fp32). */
  readonly dtypes?: readonly Dtype[];
  readonly name?: string;
  readonly onProgress?: (event: { readonly stage: string; readonly item: string; readonly done: number; readonly total: number }) => void;
  readonly signal?: AbortSignal;
  /** Byte progress of an `hf:` checkpoint's downloads (families whose converter takes Hub ids). */
  readonly onDownloadProgress?: LoadProgressCallback;
  /**
   * What the manifest's `source` names as the checkpoint; set by the registry for an `hf:` id to
   * every repository fetched, pinned to its commit (`hf:org/name@<commit> with hf:…`).
   */
  readonly source?: string;
}

export interface ConvertedGraphInfo {
  readonly graph: string;
  readonly dtype: Dtype;
  /** Size of the `.onnx` file alone. */
  readonly bytes: number;
  readonly ms: number;
}

/** What a conversion wrote, family-neutral: the manifest, each graph, warnings, and keys left out. */
export interface ConvertResult {
  readonly manifest: Manifest;
  readonly graphs: readonly ConvertedGraphInfo[];
  readonly warnings: readonly string[];
  /** Checkpoint keys knowingly ignored (each with its reason in the family's key map). */
  readonly keys?: { readonly ignored: readonly unknown[]; readonly required?: readonly unknown[] };
  /** Config-file fields: used, or knowingly ignored with the reason (docs/converter.md). */
  readonly config?: { readonly ignored: readonly unknown[] };
  /** Where each inferred structure number came from, for families that infer it from shapes. */
  readonly structure?: readonly unknown[];
  /** Files of a previous conversion in the output folder that the new manifest does not list, now removed. */
  readonly removed?: readonly string[];
  /** For an `hf:` checkpoint: each repository fetched, the commit it resolved to, its snapshot folder. */
  readonly fetched?: readonly { readonly repo: string; readonly revision: string; readonly commit: string; readonly directory: string }[];
  readonly ms: number;
}

/**
 * A family's converter (Node only): recognise its checkpoint and turn it into a model folder whose
 * manifest names the family. Registered with `registerConverter` (the built-in ones by the
 * `unipic/convert` entry and the CLI).
 */
export interface ConverterFamily {
  readonly id: string;
  /**
   * How sure the family is that `path` holds its checkpoint: `certain` (files only it has),
   * `possible` (weights it could read, nothing that names it), or `undefined` (not its).
   */
  detect(path: string): Promise<'certain' | 'possible' | undefined>;
  /**
   * How the family takes `hf:org/name[@revision][/folder]` ids: its repository recognised from the
   * listing, the files to fetch. The registry fetches them (convert-from-hub.ts) and converts the
   * snapshot folder, unless `acceptsHubIds` says `convert` fetches by itself.
   */
  readonly hub?: HubCheckpointFamily;
  /** Whether `convert` takes `hf:` ids itself (UniPic-1, which checks its options before fetching). */
  readonly acceptsHubIds?: boolean;
  convert(path: string, outDir: string, options: CommonConvertOptions & Readonly<Record<string, unknown>>): Promise<ConvertResult>;
}
