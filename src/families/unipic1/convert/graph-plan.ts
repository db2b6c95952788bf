import type { ModelConfig, UniPic1GraphName as GraphName } from '../manifest.js';
import { buildDiffusionHeadGraph } from './graphs/diffusion/diffusion-head-graph.js';
import { buildFusedSamplerGraph } from './graphs/diffusion/fused-sampler-graph.js';
import { buildEmbedGraph } from '../../../convert/graphs/llm/embed-graph.js';
import { buildLlmGraph } from '../../../convert/graphs/llm/llm-graph.js';
import { buildLmHeadGraph } from '../../../convert/graphs/llm/lm-head-graph.js';
import { buildDecoderEmbedGraph } from './graphs/mar/decoder-embed-graph.js';
import { buildMarDecoderGraph } from './graphs/mar/mar-decoder-graph.js';
import { buildMarEncoderGraph } from './graphs/mar/mar-encoder-graph.js';
import { buildVaeDecoderGraph, buildVaeDecoderStripGraph } from './graphs/vae/vae-decoder-graph.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import type { KvCacheKind } from '../../../spec/manifest.js';
import { buildVaeEncoderGraph, buildVaeEncoderStripGraph } from './graphs/vae/vae-encoder-graph.js';
import { vaeConfigFromJson } from './graphs/vae/vae-config.js';
import type { GraphContext } from '../../../convert/graphs/weights.js';
import type { CheckpointConfig } from './checkpoint-config.js';

export interface GraphPlan {
  readonly name: GraphName;
  /** Checkpoint keys the builder reads: the only ones its weight source shows it. */
  readonly keys: (key: string) => boolean;
  /** Whether the dtype's 4-bit/half options apply (the VAE stays float32: convolutions, GroupNorm). */
  readonly quantizable: boolean;
  /** `false`: q8 has no int8 form of this graph and reuses its fp32 file (the embedding table is a gather). */
  readonly q8?: boolean;
  /** Builds into `ctx.builder`; may return the serialiser to use instead of the builder's. */
  build(ctx: GraphContext): void | { toBytes(): Uint8Array };
}

const prefixes =
  (...list: string[]) =>
  (key: string) =>
    list.some((p) => key === p || key.startsWith(p));

// com.microsoft MultiHeadAttention for the MAR stacks and the VAE's attention blocks: at 1024 px
// the standard MatMul/Softmax form materialises every head's full score matrix per decoder
// block; the fused kernel keeps the peak far lower and runs faster (measurements:
// docs/performance.md, "Memory-efficient attention in the converted graphs"). Parity is tested
// for both forms.
const FUSED = { attention: 'fused' } as const;

// MatMulNBits accuracy level 4 (int8 activations on the CPU EP) for the LLM and its head: much
// faster q4 decode for a small extra error on top of the 4-bit weights (numbers:
// docs/performance.md, "q4 accuracy level 4"). Other EPs ignore the hint. The MAR and head graphs
// keep level 0, where level 4 was slower.
const LLM_Q4 = { accuracyLevel: 4 } as const;

/** Every graph of docs/model-format.md, with the weights it needs and how to build it. */
export interface GraphPlanOptions {
  readonly fusedSampler?: boolean;
  /** Receives the strip decoder's plan for the manifest when `vae_decoder_strips` is built. */
  readonly onStripPlan?: (plan: StripDecoderPlan) => void;
  /** Receives the strip encoder's plan for the manifest when `vae_encoder_strips` is built. */
  readonly onStripEncoderPlan?: (plan: StripEncoderPlan) => void;
  /** The `llm` graph's KV cache (default `in-place`; `concat` writes the graph of earlier conversions). */
  readonly kvCache?: KvCacheKind;
}

export function graphPlans(structure: CheckpointConfig, config: ModelConfig, options: GraphPlanOptions = {}): GraphPlan[] {
  const vae = vaeConfigFromJson(structure.vae);
  const head = prefixes('mar.diffloss.net.');
  const fused: GraphPlan[] = options.fusedSampler
    ? [
        { name: 'diffusion_sampler', keys: head, quantizable: true, build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }) },
        { name: 'diffusion_sampler_plain', keys: head, quantizable: true, build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: false }) },
      ]
    : [];
  return [
    { name: 'embed', keys: prefixes('llm.model.embed_tokens.weight'), quantizable: true, q8: false, build: (ctx) => buildEmbedGraph(ctx, config) },
    {
      name: 'lm_head',
      keys: prefixes(structure.llm.tie_word_embeddings ? 'llm.model.embed_tokens.weight' : 'llm.lm_head.weight'),
      quantizable: true,
      build: (ctx) => buildLmHeadGraph(ctx, config, { ...LLM_Q4, tied: structure.llm.tie_word_embeddings }),
    },
    {
      name: 'llm',
      keys: prefixes('llm.model.layers.', 'llm.model.norm.'),
      quantizable: true,
      build: (ctx) => buildLlmGraph(ctx, config, { linear: LLM_Q4, kvCache: options.kvCache ?? 'in-place' }),
    },
    {
      name: 'mar_encoder',
      keys: prefixes('mar.z_proj', 'mar.fake_latent', 'mar.encoder_blocks.', 'mar.encoder_norm.', 'proj_in.'),
      quantizable: true,
      build: (ctx) => buildMarEncoderGraph(ctx, config, FUSED),
    },
    {
      name: 'mar_decoder',
      keys: prefixes('proj_out.', 'mar.decoder_embed.', 'mar.decoder_blocks.', 'mar.decoder_norm.'),
      quantizable: true,
      build: (ctx) => buildMarDecoderGraph(ctx, config, FUSED),
    },
    { name: 'decoder_embed', keys: prefixes('mar.decoder_embed.'), quantizable: true, build: (ctx) => buildDecoderEmbedGraph(ctx, config) },
    { name: 'diffusion_head', keys: prefixes('mar.diffloss.net.'), quantizable: true, build: (ctx) => buildDiffusionHeadGraph(ctx, config) },
    { name: 'vae_encoder', keys: prefixes('vae.encoder.', 'vae.quant_conv.'), quantizable: false, build: (ctx) => buildVaeEncoderGraph(ctx, vae, FUSED) },
    { name: 'vae_decoder', keys: prefixes('vae.decoder.', 'vae.post_quant_conv.'), quantizable: false, build: (ctx) => buildVaeDecoderGraph(ctx, vae, FUSED) },
    // The same decoder as strip stages: 1024 px decodes in a fraction of the one-shot graph's
    // activation memory, same result (docs/performance.md, "Strip VAE decode").
    {
      name: 'vae_decoder_strips',
      keys: prefixes('vae.decoder.', 'vae.post_quant_conv.'),
      quantizable: false,
      build: (ctx) => options.onStripPlan?.(buildVaeDecoderStripGraph(ctx, vae, FUSED)),
    },
    // The encoder likewise, for the source image of understand and edit (docs/performance.md).
    {
      name: 'vae_encoder_strips',
      keys: prefixes('vae.encoder.', 'vae.quant_conv.'),
      quantizable: false,
      build: (ctx) => options.onStripEncoderPlan?.(buildVaeEncoderStripGraph(ctx, vae, FUSED)),
    },
    ...fused,
  ];
}
