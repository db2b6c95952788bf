import type { DecodeTrace } from './decode-runners.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;

/**
 * llama.cpp through node-llama-cpp (prebuilt CPU binary, no network, no GPU) on a GGUF of the
 * same weights: the prompt's token ids are evaluated and greedy tokens drawn (temperature 0, no
 * repetition penalty), one sequence, the context cleared between runs.
 */
export class LlamaCppDecoder {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {}

  static async open(ggufPath: string, settings: { threads: number; contextSize: number }): Promise<LlamaCppDecoder> {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
    const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
    const context = await model.createContext({ contextSize: settings.contextSize, threads: settings.threads, batchSize: 512 });
    return new LlamaCppDecoder(llama, model, context);
  }

  /** Release string of the bundled llama.cpp build (for the table's notes). */
  get buildInfo(): string {
    return `${this.llama.llamaCppRelease.repo}@${this.llama.llamaCppRelease.release}, ${this.context.currentThreads} threads`;
  }

  async generate(promptIds: readonly number[], newTokens: number): Promise<DecodeTrace> {
    const sequence = this.context.getSequence();
    try {
      const ids: number[] = [];
      const tokenTimes: number[] = [];
      const started = performance.now();
      for await (const token of sequence.evaluate(promptIds as never, { temperature: 0 })) {
        ids.push(Number(token));
        tokenTimes.push(performance.now());
        if (ids.length >= newTokens) break;
      }
      return { ids, started, tokenTimes };
    } finally {
      sequence.dispose();
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
