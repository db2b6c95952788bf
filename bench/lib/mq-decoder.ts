import { join } from 'node:path';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../src/core/model/graphs.js';
import { textSamplingSchema } from '../../src/core/text/sampling-options.js';
import type { MqGraphName, MqGraphs, MqRuntimeConfig } from '../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { understandTokens } from '../../src/families/unipic2-metaquery/runtime/understand-tokens.js';
import type { BackendSession } from '../../src/spec/backend.js';
import type { GraphName } from '../../src/spec/manifest.js';
import type { DecodeTrace } from './decode-runners.js';

/** Greedy, no repetition penalty: both loops pick the same argmax and do the same work per token. */
const GREEDY = textSamplingSchema.parse({ doSample: false, repetitionPenalty: 1 });

/**
 * The SDK's Metaquery understanding loop (understandTokens: `embed`, `llm` with host M-RoPE angles
 * and the presents kept as the next past, `lm_head` on the last position) on a text-only prompt,
 * with the sessions of a converted folder created up front.
 */
export class MqDecoder {
  private constructor(
    private readonly backend: NodeOrtBackend,
    private readonly sessions: BackendSession[],
    private readonly graphs: MqGraphs,
    private readonly config: MqRuntimeConfig,
  ) {}

  static async open(modelDir: string, config: MqRuntimeConfig, files: Record<'embed' | 'llm' | 'lm_head', string>): Promise<MqDecoder> {
    const backend = new NodeOrtBackend();
    await backend.init({ device: 'cpu' });
    const opened = new Map<string, BackendSession>();
    for (const [name, file] of Object.entries(files)) opened.set(name, await backend.createSession({ name, path: join(modelDir, file) }));
    const checked = new CheckedGraphs(async (name) => opened.get(name as string)!);
    const graphs: MqGraphs = { run: (name: MqGraphName, feeds, options) => checked.run(name as unknown as GraphName, feeds, options) };
    return new MqDecoder(backend, [...opened.values()], graphs, config);
  }

  async generate(promptIds: readonly number[], newTokens: number): Promise<DecodeTrace> {
    const ids: number[] = [];
    const tokenTimes: number[] = [];
    const started = performance.now();
    await understandTokens(this.graphs, this.config, promptIds, undefined, {
      sampling: GREEDY,
      maxTokens: newTokens,
      eosIds: [],
      onToken: (id) => {
        ids.push(id);
        tokenTimes.push(performance.now());
      },
    });
    return { ids, started, tokenTimes };
  }

  async close(): Promise<void> {
    for (const session of this.sessions) await session.dispose();
    await this.backend.dispose();
  }
}
