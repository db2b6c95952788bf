/**
 * The denoiser's text stream for a batch of prompts, however a family computes it (SD3's CLIP + T5
 * encoders for Kontext, the VLM + conditioner for Metaquery).
 */
export interface PromptEmbeddings {
  /** `[B, L, joint]` (Kontext: L = 77 + T; Metaquery: L = the 256 queries). */
  readonly embeds: Float32Array;
  readonly dims: readonly [number, number, number];
  /** `[B, pooled]`. */
  readonly pooled: Float32Array;
  readonly pooledDims: readonly [number, number];
}
