import type { ModelConfig } from '../manifest.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import type { PositionTables } from '../mar/position-tables.js';
import type { Graphs as AnyGraphs } from '../../../core/model/graphs.js';
import { encodeInStrips } from '../../../core/vae/strip-encode.js';
import { STRIP_ENCODER_GRAPH, type StripEncoderPlan } from '../../../spec/strip-encoder.js';

export interface EncodedSource {
  /** MAR encoder output with nothing masked, `[F+N, W]`, buffers first (`x_con` of the edit path). */
  readonly features: Float32Array;
  /** `proj_in` of it, rotated: `[N+F, H]`, image rows first — the visual tokens of the LLM prompt. */
  readonly visualTokens: Float32Array;
  /** N + F: the number of `<image>` slots in the prompt. */
  readonly length: number;
  /** The VAE encoder's scaled latents, `[N, C]` token-major (region editing's known tokens). */
  readonly latents: Float32Array;
}

/**
 * Image side from which the strip encoder is used, as for decoding (`STRIP_DECODE_FROM_SIDE`): at
 * 1024 px the one-shot encoder's activations take gigabytes (docs/performance.md, "Strip VAE encoder").
 */
export const STRIP_ENCODE_FROM_SIDE = 512;

/**
 * The VAE encoder's scaled latents (posterior mean × scale) of an S×S model tensor, `[N, C]`
 * token-major: through the strip encoder when the model has one (`strips`, the manifest's plan)
 * and S is at least `stripFromSide`, else in one `vae_encoder` run.
 */
export async function encodeLatents(
  graphs: Graphs,
  size: number,
  pixels: Float32Array,
  signal?: AbortSignal,
  strips?: StripEncoderPlan,
  stripFromSide = STRIP_ENCODE_FROM_SIDE,
): Promise<Float32Array> {
  const input = float32([1, 3, size, size], pixels);
  if (strips && size >= stripFromSide && (graphs as unknown as AnyGraphs).has(STRIP_ENCODER_GRAPH)) {
    const encoded = await encodeInStrips(graphs as unknown as AnyGraphs, strips, input, { signal });
    return (await takeFloat32(encoded.latents)).data;
  }
  const encoded = await graphs.run('vae_encoder', { pixels: input }, { signal });
  return (await takeFloat32(encoded.latents)).data;
}

/**
 * The shared image front end of understand and edit: VAE encoder (posterior mean ×
 * scale) → MAR encoder over all N tokens plus the F buffers → `proj_in` → rotation.
 */
export async function encodeSourceImage(
  graphs: Graphs,
  config: ModelConfig,
  tables: PositionTables,
  pixels: Float32Array,
  signal?: AbortSignal,
  strips?: StripEncoderPlan,
): Promise<EncodedSource> {
  const size = tables.size;
  const { bufferSize: F, tokenDim: C } = config.mar;
  const n = tables.grid * tables.grid;
  const latents = await encodeLatents(graphs, size, pixels, signal, strips);
  const mar = await graphs.run(
    'mar_encoder',
    {
      latents: float32([1, n, C], latents),
      pos_embed: float32([1, F + n, config.mar.encoderWidth], tables.encoderPos),
    },
    { signal },
  );
  let features: Float32Array;
  try {
    features = (await takeFloat32(mar.x_enc)).data;
  } catch (error) {
    mar.llm_in.dispose();
    throw error;
  }
  const visualTokens = (await takeFloat32(mar.llm_in)).data;
  return { features, visualTokens, length: F + n, latents };
}
