import type { UniPic1Context as CallContext } from '../call-context.js';

/** The learned MAR position tables for one output size (bilinear-resized offline by the converter). */
export interface PositionTables {
  /** Output image side in pixels. */
  readonly size: number;
  /** Latent grid side; N = grid². */
  readonly grid: number;
  /** `[F+N, We]` (MAR encoder width), buffer rows first. */
  readonly encoderPos: Float32Array;
  /** `[F+N, Wd]` (MAR decoder width). */
  readonly decoderPos: Float32Array;
  /** `[N, Wd]`. */
  readonly diffusionPos: Float32Array;
}

/** Tables for a call's size; a size the converter did not precompute is resized and warned about. */
export function tablesForCall(context: CallContext, size: number): Promise<PositionTables> {
  if (context.assets.sizeSupport(size) === 'interpolated') {
    context.warn(
      'size-interpolated',
      `size ${size} was not converted (converted: ${context.assets.sizes.join(', ')}); its position tables are resized from the native grid at run time, and quality away from the trained sizes is untested`,
    );
  }
  return context.assets.positionTables(size);
}
