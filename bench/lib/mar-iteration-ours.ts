import { sampleTokens } from '../../src/families/unipic1/diffusion/sampler.js';
import type { DiffusionTables } from '../../src/families/unipic1/diffusion/schedule.js';
import { float32, int64, takeFloat32, tensor } from '../../src/core/tensor.js';
import type { DeviceTensor } from '../../src/spec/backend.js';
import type { ModelConfig, UniPic1GraphName as GraphName } from '../../src/families/unipic1/manifest.js';
import type { MarIterationState } from './mar-iteration-inputs.js';
import type { NodeSessions } from './node-sessions.js';

export interface IterationTimings {
  readonly encoder: number;
  readonly llm: number;
  readonly decoder: number;
  readonly head: number;
  readonly total: number;
}

export interface IterationResult {
  readonly timings: IterationTimings;
  readonly z: Float32Array;
  readonly tokens: Float32Array;
}

/**
 * One MAR iteration the way src/core/generation/mar-loop.ts runs it (same graphs, feeds and
 * sampler), from a prepared state; `fusedSampler` swaps the 100 per-step head runs for one run
 * of the fused `diffusion_sampler` graph.
 */
export async function runOurIteration(
  sessions: NodeSessions,
  config: ModelConfig,
  state: MarIterationState,
  diffusion: DiffusionTables,
  fusedSampler: boolean,
): Promise<IterationResult> {
  const { graphs } = sessions;
  const { bufferSize: F, tokenDim: C, encoderWidth: W } = config.mar;
  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const rows = state.rows;
  const k = state.known.length;
  const n = state.grid * state.grid;
  const started = performance.now();

  const encoded = await graphs.run(
    'mar_encoder',
    { latents: float32([rows, k, C], state.latents), pos_embed: float32([rows, F + k, W], state.posEmbed) },
    { keepOnDevice: ['x_enc', 'llm_in'] },
  );
  const afterEncoder = performance.now();
  const past: Record<string, ReturnType<typeof float32>> = {};
  const cache = [rows, numKeyValueHeads, state.prefixLength, headDim];
  for (let i = 0; i < numLayers; i++) {
    past[`past_key_values.${i}.key`] = float32(cache, state.past[2 * i]);
    past[`past_key_values.${i}.value`] = float32(cache, state.past[2 * i + 1]);
  }
  let llmOut: DeviceTensor | undefined;
  let z: Float32Array;
  let afterLlm: number;
  try {
    const out = await graphs.run(
      'llm',
      {
        inputs_embeds: encoded.llm_in,
        attention_mask: int64([rows, state.prefixLength + F + k], state.attentionMask),
        position_ids: int64([rows, F + k], state.positionIds),
        ...past,
      },
      { outputs: ['last_hidden_state'], keepOnDevice: ['last_hidden_state'] },
    );
    llmOut = out.last_hidden_state;
    afterLlm = performance.now();
    const decoded = await graphs.run('mar_decoder', {
      x_enc: encoded.x_enc,
      llm_out: llmOut,
      scatter_idx: int64([rows, F + k], state.scatter),
      fill: float32([rows, F + n, W], state.fill),
      decoder_pos: float32([1, F + n, W], state.decoderPos),
      diffusion_pos: float32([1, n, W], state.diffusionPos),
    });
    z = (await takeFloat32(decoded.z)).data;
  } finally {
    encoded.x_enc.dispose();
    encoded.llm_in.dispose();
    llmOut?.dispose();
  }
  const afterDecoder = performance.now();

  // Conditions row-major: the conditional row's predicted positions, then the unconditional row's.
  const m = state.predicted.length;
  const conditions = new Float32Array(2 * m * W);
  for (let half = 0; half < 2; half++) {
    state.predicted.forEach((p, i) => conditions.set(z.subarray((half * n + p) * W, (half * n + p + 1) * W), (half * m + i) * W));
  }
  const iteration = state.plan.step;
  let tokens: Float32Array;
  if (fusedSampler) {
    const steps = diffusion.timesteps.length;
    const noise = new Float32Array(steps * m * C);
    for (let s = 0; s < steps - 1; s++) noise.set(state.noise(m * C, { kind: 'diffusion-step', iteration, step: steps - 1 - s }), s * m * C);
    const out = await graphs.run('diffusion_sampler' as GraphName, {
      x: float32([m, C], state.noise(m * C, { kind: 'diffusion-start', iteration })),
      c: float32([2 * m, W], conditions),
      noise: float32([steps, m, C], noise),
      first_step: tensor('int64', [], BigInt64Array.from([BigInt(steps - 1)])),
      guidance: tensor('float32', [], Float32Array.from([state.guidance])),
      temperature: tensor('float32', [], Float32Array.from([state.temperature])),
    });
    tokens = (await takeFloat32(out.x_out)).data;
  } else {
    tokens = await sampleTokens({
      tables: diffusion,
      tokens: m,
      channels: C,
      unconditional: true,
      guidance: state.guidance,
      temperature: state.temperature,
      iteration,
      noise: state.noise,
      net: async (x, netRows, timestep) => {
        const out = await graphs.run('diffusion_head', {
          x: float32([netRows, C], x),
          t: float32([netRows], new Float32Array(netRows).fill(timestep)),
          c: float32([netRows, W], conditions),
        });
        return (await takeFloat32(out.out)).data;
      },
    });
  }
  const finished = performance.now();
  return {
    timings: {
      encoder: afterEncoder - started,
      llm: afterLlm - afterEncoder,
      decoder: afterDecoder - afterLlm,
      head: finished - afterDecoder,
      total: finished - started,
    },
    z,
    tokens,
  };
}
