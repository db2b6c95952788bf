import type { Dtype } from '../../src/spec/manifest.js';
import { GraphBuilder, type Dim, type ElementType } from '../../src/convert/onnx/graph-builder.js';
import type { WeightSink } from '../../src/convert/onnx/weight-sink.js';
import { linear, type LinearOptions } from '../../src/convert/graphs/layers/linear.js';
import { buildLlmGraph, type LlmGraphOptions } from '../../src/convert/graphs/llm/llm-graph.js';
import { EMBED_WEIGHT } from '../../src/convert/graphs/llm/embed-graph.js';
import type { GraphContext, WeightSource } from '../../src/convert/graphs/weights.js';
import type { ModelConfig } from '../../src/families/unipic1/manifest.js';

const LM_HEAD_ALIAS = 'lm_head.weight';

/**
 * The plain Hugging Face causal-LM layout that transformers.js runs for Qwen2 (what an Optimum
 * export gives): `input_ids`, `attention_mask`, `position_ids`, `past_key_values.*` in; `logits`
 * `[B, L, V]` and `present.*` out. The decoder body is the converter's own `llm` graph, so the
 * benchmark compares runtimes and loops on identical layers; the embedding stays a float Gather and
 * the tied head a separate projection, as in onnx-community exports (whose q4 variant quantizes every
 * constant MatMul, the head included, symmetric blocks of 32, accuracy level unset).
 */
export function buildCausalLmGraph(
  weights: WeightSource,
  config: Pick<ModelConfig, 'llm'>,
  dtype: Dtype,
  sink: WeightSink,
  options: { body?: LlmGraphOptions; head?: LinearOptions } = {},
): Uint8Array {
  const builder = new CausalLmBuilder(weights, sink);
  const ctx: GraphContext = { builder, weights: new AliasedWeights(weights, { [LM_HEAD_ALIAS]: EMBED_WEIGHT }), dtype };
  buildLlmGraph(ctx, config, options.body);
  if (!builder.hidden) throw new Error('the llm builder declared no last_hidden_state');
  const logits = linear(ctx, builder.hidden, LM_HEAD_ALIAS, undefined, options.head);
  builder.output(logits, 'logits', 'float32', ['batch', 'sequence', config.llm.vocabSize]);
  return builder.toBytes();
}

/**
 * Reroutes the `llm` graph's interface: `inputs_embeds` becomes a Gather on `input_ids`, and
 * `last_hidden_state` is kept for the head instead of becoming an output.
 */
class CausalLmBuilder extends GraphBuilder {
  hidden: string | undefined;

  constructor(
    private readonly source: WeightSource,
    sink: WeightSink,
  ) {
    super('causal_lm', sink);
  }

  override input(name: string, type: ElementType, shape: readonly Dim[]): string {
    if (name !== 'inputs_embeds') return super.input(name, type, shape);
    const ids = super.input('input_ids', 'int64', ['batch', 'sequence']);
    const [vocab, hidden] = this.source.shape(EMBED_WEIGHT);
    const table = this.floatInitializer(EMBED_WEIGHT, [vocab, hidden], this.source.float32(EMBED_WEIGHT));
    return this.op('Gather', [table, ids], { axis: 0 });
  }

  override output(value: string, name: string, type: ElementType, shape: readonly Dim[]): void {
    if (name === 'last_hidden_state') {
      this.hidden = value;
      return;
    }
    super.output(value, name, type, shape);
  }
}

/** Extra names for existing weights (the tied head under its own initializer name). */
class AliasedWeights implements WeightSource {
  constructor(
    private readonly inner: WeightSource,
    private readonly aliases: Record<string, string>,
  ) {}
  private resolve(name: string): string {
    return this.aliases[name] ?? name;
  }
  has(name: string): boolean {
    return this.inner.has(this.resolve(name));
  }
  shape(name: string): readonly number[] {
    return this.inner.shape(this.resolve(name));
  }
  float32(name: string): Float32Array {
    return this.inner.float32(this.resolve(name));
  }
}
