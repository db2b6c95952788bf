/** The learned MAR position tables for one output size (bilinear-resized offline by the converter). */
export interface PositionTables {
  /** Output image side in pixels. */
  readonly size: number;
  /** Latent grid side; N = grid². */
  readonly grid: number;
  /** `[F+N, W]`, buffer rows first. */
  readonly encoderPos: Float32Array;
  /** `[F+N, W]`. */
  readonly decoderPos: Float32Array;
  /** `[N, W]`. */
  readonly diffusionPos: Float32Array;
}
