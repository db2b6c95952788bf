import type { LlmConfig } from '../../../../../src/convert/graphs/llm/llm-graph.js';
import type { WeightSource } from '../../../../../src/convert/graphs/weights.js';

/**
 * Float64 Qwen2 decoder written from the HF modelling semantics with plain loops (no ONNX, no
 * shared code with the graph builder): the oracle for the llm graph tests.
 */

export interface ReferenceInputs {
  batch: number;
  length: number;
  /** `[B, L, H]` */
  inputsEmbeds: ArrayLike<number>;
  /** `[B, P+L]`, 1 = attend */
  attentionMask: ArrayLike<number>;
  /** `[B, L]` */
  positionIds: ArrayLike<number>;
  pastLength: number;
  /** per layer, `[B, KVH, P, D]` each */
  past: { key: ArrayLike<number>; value: ArrayLike<number> }[];
}

export interface ReferenceOutputs {
  lastHiddenState: Float64Array;
  present: { key: Float64Array; value: Float64Array }[];
}

export function qwen2Reference(weights: WeightSource, llm: LlmConfig, inputs: ReferenceInputs): ReferenceOutputs {
  const { batch: B, length: L, pastLength: P } = inputs;
  const { hiddenSize: H, numHeads: NH, numKeyValueHeads: KVH, headDim: D, rmsNormEps: eps } = llm;
  const T = P + L;
  const w = (name: string) => Array.from(weights.float32(name));
  const rows = B * L;
  let hidden = Float64Array.from(inputs.inputsEmbeds);
  const present: ReferenceOutputs['present'] = [];

  for (let layer = 0; layer < llm.numLayers; layer++) {
    const p = `llm.model.layers.${layer}`;
    const normed = rmsNorm(hidden, rows, H, w(`${p}.input_layernorm.weight`), eps);
    const q = linear(normed, rows, H, w(`${p}.self_attn.q_proj.weight`), w(`${p}.self_attn.q_proj.bias`), NH * D);
    const k = linear(normed, rows, H, w(`${p}.self_attn.k_proj.weight`), w(`${p}.self_attn.k_proj.bias`), KVH * D);
    const v = linear(normed, rows, H, w(`${p}.self_attn.v_proj.weight`), w(`${p}.self_attn.v_proj.bias`), KVH * D);
    for (let r = 0; r < rows; r++) {
      const position = Number(inputs.positionIds[r]);
      for (let h = 0; h < NH; h++) rope(q, (r * NH + h) * D, D, position, llm.ropeTheta);
      for (let h = 0; h < KVH; h++) rope(k, (r * KVH + h) * D, D, position, llm.ropeTheta);
    }
    // present [B, KVH, T, D] = past ++ new
    const keyCache = new Float64Array(B * KVH * T * D);
    const valueCache = new Float64Array(B * KVH * T * D);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < KVH; h++) {
        for (let t = 0; t < T; t++) {
          for (let d = 0; d < D; d++) {
            const at = ((b * KVH + h) * T + t) * D + d;
            if (t < P) {
              keyCache[at] = Number(inputs.past[layer].key[((b * KVH + h) * P + t) * D + d]);
              valueCache[at] = Number(inputs.past[layer].value[((b * KVH + h) * P + t) * D + d]);
            } else {
              const source = ((b * L + (t - P)) * KVH + h) * D + d;
              keyCache[at] = k[source];
              valueCache[at] = v[source];
            }
          }
        }
      }
    }
    present.push({ key: keyCache, value: valueCache });

    const context = new Float64Array(rows * NH * D);
    const group = NH / KVH;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < NH; h++) {
        const kvHead = Math.floor(h / group);
        for (let j = 0; j < L; j++) {
          const scores = new Float64Array(T);
          const visible: boolean[] = [];
          for (let t = 0; t < T; t++) {
            visible.push(t <= P + j && Number(inputs.attentionMask[b * T + t]) === 1);
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[((b * L + j) * NH + h) * D + d] * keyCache[((b * KVH + kvHead) * T + t) * D + d];
            scores[t] = dot / Math.sqrt(D);
          }
          // HF adds the lowest float to hidden keys: a row with no visible key becomes uniform.
          const anyVisible = visible.some(Boolean);
          let max = -Infinity;
          for (let t = 0; t < T; t++) if (visible[t]) max = Math.max(max, scores[t]);
          const weightsRow = scores.map((s, t) => (anyVisible ? (visible[t] ? Math.exp(s - max) : 0) : 1));
          const sum = weightsRow.reduce((a, c) => a + c, 0);
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let t = 0; t < T; t++) acc += (weightsRow[t] / sum) * valueCache[((b * KVH + kvHead) * T + t) * D + d];
            context[((b * L + j) * NH + h) * D + d] = acc;
          }
        }
      }
    }
    const attention = linear(context, rows, NH * D, w(`${p}.self_attn.o_proj.weight`), undefined, H);
    for (let i = 0; i < hidden.length; i++) hidden[i] += attention[i];

    const mlpIn = rmsNorm(hidden, rows, H, w(`${p}.post_attention_layernorm.weight`), eps);
    const I = llm.intermediateSize;
    const gate = linear(mlpIn, rows, H, w(`${p}.mlp.gate_proj.weight`), undefined, I);
    const up = linear(mlpIn, rows, H, w(`${p}.mlp.up_proj.weight`), undefined, I);
    const product = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    const down = linear(product, rows, I, w(`${p}.mlp.down_proj.weight`), undefined, H);
    hidden = hidden.map((x, i) => x + down[i]);
  }
  return { lastHiddenState: rmsNorm(hidden, rows, H, w('llm.model.norm.weight'), eps), present };
}

export function rmsNorm(x: Float64Array, rows: number, width: number, weight: number[], eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += x[r * width + i] ** 2;
    const inverse = 1 / Math.sqrt(sum / width + eps);
    for (let i = 0; i < width; i++) out[r * width + i] = x[r * width + i] * inverse * weight[i];
  }
  return out;
}

export function linear(x: Float64Array, rows: number, inFeatures: number, weight: number[], bias: number[] | undefined, out: number): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * weight[o * inFeatures + i];
      y[r * out + o] = sum;
    }
  }
  return y;
}

/** Rotate-half RoPE in place on one head vector at `offset`. */
function rope(x: Float64Array, offset: number, D: number, position: number, theta: number): void {
  const half = D / 2;
  for (let i = 0; i < half; i++) {
    const angle = position * Math.pow(theta, (-2 * i) / D);
    const a = x[offset + i];
    const b = x[offset + half + i];
    x[offset + i] = a * Math.cos(angle) - b * Math.sin(angle);
    x[offset + half + i] = b * Math.cos(angle) + a * Math.sin(angle);
  }
}
