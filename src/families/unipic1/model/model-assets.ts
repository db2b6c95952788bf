import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import type { UniPic1Manifest as Manifest } from '../manifest.js';
import { TextTokenizer } from '../../../core/text/tokenizer.js';
import { readMaskToken, readPositionTables, resizePositionTables, type PositionTables } from '../mar/position-tables.js';

/**
 * The model's small data files, read once on first need: position tables per output size, the
 * mask token, the tokenizer. Also holds cross-call caches (an understood image's prefix KV) so
 * dispose() can free them.
 */
export class ModelAssets {
  private readonly tables = new Map<number, Promise<PositionTables>>();
  private maskToken: Promise<Float32Array> | undefined;
  private textTokenizer: Promise<TextTokenizer> | undefined;
  private readonly cached = new Map<string, { value: unknown; dispose(): void }>();

  constructor(
    readonly manifest: Manifest,
    readonly read: (path: string) => Promise<Uint8Array>,
  ) {}

  /** Output sizes this model has position tables for. */
  get sizes(): number[] {
    return this.manifest.resolutions.map((r) => r.size);
  }

  /** The default output size: the largest the model was converted for (UniPic: 1024). */
  get defaultSize(): number {
    return Math.max(...this.sizes);
  }

  /** The converted size whose tables are the learned ones (the native grid), if converted. */
  private get nativeSize(): number | undefined {
    const { nativeGrid } = this.manifest.config.mar;
    return this.manifest.resolutions.find((r) => r.grid === nativeGrid)?.size;
  }

  /**
   * How an output size is served: `converted` (tables precomputed by the converter), or
   * `interpolated` (any other multiple of the VAE stride, resized at run time from the native
   * tables, as MAR does); `undefined` when neither is possible.
   */
  sizeSupport(size: number): 'converted' | 'interpolated' | undefined {
    if (this.sizes.includes(size)) return 'converted';
    const stride = this.manifest.config.mar.vaeStride;
    const grid = size / stride;
    if (this.nativeSize !== undefined && Number.isInteger(grid) && grid >= 2 && grid <= 4 * this.manifest.config.mar.nativeGrid) return 'interpolated';
    return undefined;
  }

  /** InvalidOptionsError for a size the model cannot serve. */
  checkSize(size: number): void {
    if (this.sizeSupport(size)) return;
    const stride = this.manifest.config.mar.vaeStride;
    const rule =
      this.nativeSize === undefined
        ? `one of ${this.sizes.join(', ')}`
        : `one of ${this.sizes.join(', ')}, or a multiple of ${stride} up to ${4 * this.manifest.config.mar.nativeGrid * stride}`;
    throw new InvalidOptionsError(`size ${size} is not available in this model: expected ${rule}`, {
      details: { issues: [{ path: 'size', message: `expected ${rule}` }] },
    });
  }

  positionTables(size: number): Promise<PositionTables> {
    this.checkSize(size);
    let tables = this.tables.get(size);
    if (!tables) {
      const { bufferSize, encoderWidth, decoderWidth, vaeStride } = this.manifest.config.mar;
      // Each table has its own stack's width: the decoder may be narrower than the encoder.
      const widths = { encoderWidth, decoderWidth };
      const resolution = this.manifest.resolutions.find((r) => r.size === size);
      tables = resolution
        ? this.read(resolution.tables).then((bytes) => readPositionTables(bytes, size, resolution.grid, bufferSize, widths, resolution.tables))
        : this.positionTables(this.nativeSize as number).then((native) => resizePositionTables(native, size, size / vaeStride, bufferSize, widths));
      tables.catch(() => this.tables.delete(size));
      this.tables.set(size, tables);
    }
    return tables;
  }

  mask(): Promise<Float32Array> {
    if (!this.maskToken) {
      this.maskToken = this.read(this.manifest.constants).then((bytes) => readMaskToken(bytes, this.manifest.config.mar.decoderWidth, this.manifest.constants));
      // A failed read (a transient I/O error) is retried by the next call.
      this.maskToken.catch(() => (this.maskToken = undefined));
    }
    return this.maskToken;
  }

  tokenizer(): Promise<TextTokenizer> {
    this.textTokenizer ??= (async () => {
      const { json: jsonPath, config: configPath } = this.manifest.tokenizer;
      const [json, config] = await Promise.all([this.read(jsonPath), this.read(configPath)]);
      return TextTokenizer.fromJson(parseJsonFile(json, jsonPath), parseJsonFile(config, configPath));
    })();
    return this.textTokenizer;
  }

  /** A cross-call cache slot (one value per key); replacing or disposing frees the old value. */
  getCached<T>(key: string): T | undefined {
    return this.cached.get(key)?.value as T | undefined;
  }

  setCached<T>(key: string, value: T, dispose: () => void): void {
    this.cached.get(key)?.dispose();
    this.cached.set(key, { value, dispose });
  }

  dispose(): void {
    for (const entry of this.cached.values()) entry.dispose();
    this.cached.clear();
  }
}

/** A model file that must be JSON; a damaged one is the model's fault, not a bug in the caller. */
function parseJsonFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InvalidModelError(`${path} is not valid JSON (${(error as Error).message})`, { cause: error, details: { file: path } });
  }
}
