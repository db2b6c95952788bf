import { join } from 'node:path';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { embedTokens } from '../../src/families/unipic1/generation/prefix.js';
import { CheckedGraphs, type Graphs } from '../../src/core/model/graphs.js';
import type { UniPic1Graphs } from '../../src/families/unipic1/graphs.js';
import { float32, int64, takeFloat32 } from '../../src/core/tensor.js';
import { TokenSelector } from '../../src/core/text/sampling.js';
import { textSamplingSchema } from '../../src/core/text/sampling-options.js';
import { disposeAll, presentNames, presentsAsPast } from '../../src/core/kv-cache.js';
import { InPlaceKvCache } from '../../src/core/in-place-kv-cache.js';
import type { InPlaceKvLayout } from '../../src/spec/manifest.js';
import type { BackendSession, DeviceTensor } from '../../src/spec/backend.js';
import type { ModelConfig, UniPic1GraphName as GraphName } from '../../src/families/unipic1/manifest.js';
import type { OurDecodeFiles } from './decode-models.js';

/** Token ids and when each was chosen (ms, performance.now()), plus when the call started. */
export interface DecodeTrace {
  readonly ids: number[];
  readonly started: number;
  readonly tokenTimes: number[];
  /** ms spent inside each graph's runs after the first token (our loop only). */
  readonly graphMs?: Record<string, number>;
}

/** Greedy, no repetition penalty: both loops pick the same argmax and do the same work per token. */
const GREEDY = textSamplingSchema.parse({ doSample: false, repetitionPenalty: 1 });

/**
 * The SDK's understanding decode loop (src/core/understanding/understand.ts), call for call: the
 * node-ort backend, CheckedGraphs (NaN scan of host outputs), `embed` per new token, `llm` with
 * the presents kept as the next past, `lm_head` on the last position only, HF-order selection.
 */
export class OurDecoder {
  /** The prompt's last hidden state from the latest prefill (parity between dtypes). */
  prefillHidden: Float32Array | undefined;

  private constructor(
    private readonly backend: NodeOrtBackend,
    private readonly sessions: Map<GraphName, BackendSession>,
    private readonly config: ModelConfig,
    private readonly inPlace: InPlaceKvLayout | undefined,
  ) {}

  /** `inPlace`: the files are the `kvCache: 'in-place'` llm graph with that buffer layout, driven through InPlaceKvCache. */
  static async open(
    onnxDir: string,
    files: OurDecodeFiles,
    config: ModelConfig,
    settings: { threads?: number; spinning?: boolean; inPlace?: InPlaceKvLayout } = {},
  ): Promise<OurDecoder> {
    const backend = new NodeOrtBackend();
    await backend.init({ device: 'cpu' });
    const sessions = new Map<GraphName, BackendSession>();
    const extra = settings.spinning === undefined ? undefined : { configEntries: { 'session.intra_op.allow_spinning': settings.spinning ? '1' : '0' } };
    for (const [name, file] of [
      ['embed', files.embed],
      ['llm', files.llm],
      ['lm_head', files.lmHead],
    ] as const) {
      sessions.set(name, await backend.createSession({ name, path: join(onnxDir, file) }, { threads: settings.threads, extra }));
    }
    return new OurDecoder(backend, sessions, config, settings.inPlace);
  }

  /**
   * `syntheticPast`: start from a random KV cache of that many positions instead of prefilling the
   * prompt (the prompt's tokens are then decoded on top of it): the understanding case, where a
   * 1024 px image puts ~4180 positions in the cache, without minutes of CPU prefill.
   */
  async generate(promptIds: readonly number[], newTokens: number, syntheticPast = 0): Promise<DecodeTrace> {
    if (this.inPlace) return this.generateInPlace(promptIds, newTokens, syntheticPast, this.inPlace);
    const { graphs, graphMs, startCounting } = this.timedGraphs();
    const { hiddenSize: H, numLayers, numKeyValueHeads, headDim } = this.config.llm;
    const names = presentNames(numLayers);
    const started = performance.now();
    const llm = (embeds: Float32Array, length: number, past: Record<string, DeviceTensor | ReturnType<typeof float32>>, pastLength: number) =>
      graphs.run(
        'llm',
        {
          inputs_embeds: float32([1, length, H], embeds),
          attention_mask: int64([1, pastLength + length], new Array(pastLength + length).fill(1)),
          position_ids: int64(
            [1, length],
            Array.from({ length }, (_, i) => pastLength + i),
          ),
          ...past,
        },
        { keepOnDevice: names },
      );
    const initial: Record<string, ReturnType<typeof float32>> = {};
    for (const [i, name] of names.entries()) {
      const values = new Float32Array(numKeyValueHeads * syntheticPast * headDim);
      for (let j = 0; j < values.length; j++) values[j] = Math.sin(j * 0.37 + i);
      initial[name.replace('present.', 'past_key_values.')] = float32([1, numKeyValueHeads, syntheticPast, headDim], values);
    }
    let out = await llm((await embedTokens(graphs, [promptIds])).data, promptIds.length, initial, syntheticPast);
    let past: Record<string, DeviceTensor> | undefined = presentsAsPast(out);
    let pastLength = syntheticPast + promptIds.length;
    const selector = new TokenSelector(GREEDY);
    const ids: number[] = [];
    const tokenTimes: number[] = [];
    try {
      for (;;) {
        const hidden = await takeFloat32(out.last_hidden_state);
        const last = hidden.data.subarray(hidden.data.length - H);
        if (ids.length === 0) this.prefillHidden = hidden.data.slice();
        const logits = await graphs.run('lm_head', { hidden: float32([1, H], last.slice()) });
        ids.push(selector.select((await takeFloat32(logits.logits)).data));
        tokenTimes.push(performance.now());
        startCounting();
        if (ids.length >= newTokens) break;
        const embeds = (await embedTokens(graphs, [[ids[ids.length - 1]]])).data;
        const previous = past;
        out = await llm(embeds, 1, previous, pastLength);
        disposeAll(previous);
        past = presentsAsPast(out);
        pastLength++;
      }
    } finally {
      disposeAll(past);
    }
    return { ids, started, tokenTimes, graphMs };
  }

  /** The same loop over the in-place cache: the buffers are fed whole, only new keys/values come back. */
  private async generateInPlace(promptIds: readonly number[], newTokens: number, syntheticPast: number, layout: InPlaceKvLayout): Promise<DecodeTrace> {
    const { graphs, graphMs, startCounting } = this.timedGraphs();
    const { hiddenSize: H, numLayers, numKeyValueHeads, headDim } = this.config.llm;
    const started = performance.now();
    const cache = new InPlaceKvCache(this.config.llm, 1, undefined, layout);
    cache.reserve(syntheticPast + promptIds.length + newTokens);
    if (syntheticPast > 0) {
      const synthetic: Record<string, DeviceTensor> = {};
      for (let i = 0; i < numLayers; i++) {
        for (const [j, part] of (['key', 'value'] as const).entries()) {
          const values = new Float32Array(numKeyValueHeads * syntheticPast * headDim);
          for (let k = 0; k < values.length; k++) values[k] = Math.sin(k * 0.37 + 2 * i + j);
          const host = float32([1, numKeyValueHeads, syntheticPast, headDim], values);
          synthetic[`new_key_values.${i}.${part}`] = { ...host, location: 'cpu', download: async () => host, dispose: () => undefined };
        }
      }
      await cache.append(synthetic, syntheticPast);
    }
    const step = async (embeds: Float32Array, length: number) => {
      const out = (await graphs.run('llm', cache.stepInputs(float32([1, length, H], embeds), length))) as unknown as Record<string, DeviceTensor>;
      const hidden = await takeFloat32(out.last_hidden_state);
      await cache.append(out, length);
      return hidden.data;
    };
    let hidden = await step((await embedTokens(graphs, [promptIds])).data, promptIds.length);
    const selector = new TokenSelector(GREEDY);
    const ids: number[] = [];
    const tokenTimes: number[] = [];
    try {
      for (;;) {
        if (ids.length === 0) this.prefillHidden = hidden.slice();
        const logits = await graphs.run('lm_head', { hidden: float32([1, H], hidden.slice(hidden.length - H)) });
        ids.push(selector.select((await takeFloat32(logits.logits)).data));
        tokenTimes.push(performance.now());
        startCounting();
        if (ids.length >= newTokens) break;
        hidden = await step((await embedTokens(graphs, [[ids[ids.length - 1]]])).data, 1);
      }
    } finally {
      cache.clear();
    }
    return { ids, started, tokenTimes, graphMs };
  }

  private timedGraphs(): { graphs: Graphs<UniPic1Graphs>; graphMs: Record<string, number>; startCounting: () => void } {
    const checked = new CheckedGraphs<UniPic1Graphs>(async (name) => this.sessions.get(name as GraphName)!);
    const graphMs: Record<string, number> = { embed: 0, llm: 0, lm_head: 0 };
    let counting = false;
    const graphs: Graphs<UniPic1Graphs> = {
      has: (name) => checked.has(name),
      run: async (name, feeds, options) => {
        const started = performance.now();
        const out = await checked.run(name, feeds, options);
        if (counting) graphMs[name] += performance.now() - started;
        return out;
      },
      release: (name) => checked.release(name),
    };
    return { graphs, graphMs, startCounting: () => (counting = true) };
  }

  async close(): Promise<void> {
    await this.backend.dispose();
  }
}

/** transformers.js `AutoModelForCausalLM.generate` on the causal-LM layout of the same weights. */
export class TransformersDecoder {
  private constructor(
    private readonly model: { generate(options: Record<string, unknown>): Promise<unknown>; dispose(): Promise<unknown> },
    private readonly tensorClass: new (type: string, data: BigInt64Array, dims: number[]) => unknown,
  ) {}

  static async open(root: string, dtype: 'fp32' | 'q4'): Promise<TransformersDecoder> {
    const transformers = await import('@huggingface/transformers');
    const slash = root.lastIndexOf('/');
    transformers.env.localModelPath = root.slice(0, slash + 1);
    transformers.env.allowRemoteModels = false;
    transformers.env.useFSCache = false;
    const model = await transformers.AutoModelForCausalLM.from_pretrained(root.slice(slash + 1), { dtype, device: 'cpu' });
    return new TransformersDecoder(model as never, transformers.Tensor as never);
  }

  async generate(promptIds: readonly number[], newTokens: number): Promise<DecodeTrace> {
    const ids: number[] = [];
    const tokenTimes: number[] = [];
    let promptSeen = false;
    const streamer = {
      put: (value: bigint[][]) => {
        if (!promptSeen) {
          promptSeen = true;
          return;
        }
        ids.push(Number(value[0][0]));
        tokenTimes.push(performance.now());
      },
      end: () => undefined,
    };
    const inputIds = new this.tensorClass('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]);
    const started = performance.now();
    await this.model.generate({ inputs: inputIds, max_new_tokens: newTokens, do_sample: false, streamer });
    return { ids, started, tokenTimes };
  }

  async close(): Promise<void> {
    await this.model.dispose();
  }
}

/** Time to the first token, and the mean time per later token (the steady decode rate). */
export function decodeTimings(trace: DecodeTrace): { firstTokenMs: number; perTokenMs: number } {
  const { tokenTimes, started } = trace;
  const firstTokenMs = tokenTimes[0] - started;
  const perTokenMs = tokenTimes.length > 1 ? (tokenTimes[tokenTimes.length - 1] - tokenTimes[0]) / (tokenTimes.length - 1) : Number.NaN;
  return { firstTokenMs, perTokenMs };
}
