import { float32, takeFloat32 } from '../../../core/tensor.js';
import type { DeviceTensor } from '../../../spec/backend.js';
import type { RopeTables } from '../latents/rope-tables.js';
import type { Unipic3Config, Unipic3Graphs } from './unipic3-graphs.js';

/** One condition's text side of the transformer: prompt embeddings and their rotary rows. */
export interface TransformerText {
  readonly embeds: Float32Array;
  readonly length: number;
  readonly rope: RopeTables;
}

/**
 * One transformer pass (diffusers `QwenImageTransformer2DModel.forward`) over the graphs the converter split it into: `transformer_in`
 * (patch / text projections and the timestep embedding), each `transformer_blocks_*` group in turn,
 * then `transformer_out`. `latents` is `[N, C]` packed (target first, then references); the
 * velocity of the first `targetTokens` tokens is returned (the pipeline slices the rest away).
 */
export async function transformerForward(
  graphs: Unipic3Graphs,
  config: Unipic3Config,
  latents: Float32Array,
  tokens: number,
  text: TransformerText,
  timestep: number,
  targetTokens: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const C = config.transformer.inChannels;
  const { rope } = text;
  const pairs = rope.pairs;
  const start = await graphs.run(
    'transformer_in',
    {
      latents: float32([1, tokens, C], latents),
      prompt_embeds: float32([1, text.length, text.embeds.length / text.length], text.embeds),
      timestep: float32([1], Float32Array.of(timestep)),
    },
    { signal },
  );
  let image: DeviceTensor = start.image;
  let txt: DeviceTensor = start.text;
  const temb = start.temb;
  const ropeFeeds = {
    image_rope_cos: float32([tokens, pairs], rope.imageCos),
    image_rope_sin: float32([tokens, pairs], rope.imageSin),
    text_rope_cos: float32([text.length, pairs], rope.textCos),
    text_rope_sin: float32([text.length, pairs], rope.textSin),
  };
  try {
    for (const name of config.transformer.blockGraphs) {
      const out = await graphs.run(name, { image, text: txt, temb, ...ropeFeeds }, { signal });
      image.dispose();
      txt.dispose();
      image = out.image_out;
      txt = out.text_out;
    }
    const out = await graphs.run('transformer_out', { image, temb }, { signal, outputs: ['velocity'] });
    const velocity = (await takeFloat32(out.velocity)).data;
    return velocity.slice(0, targetTokens * C);
  } finally {
    image.dispose();
    txt.dispose();
    temb.dispose();
  }
}
