import type { Dim, ElementType } from './graph-builder.js';
import { GraphBuilder } from './graph-builder.js';

/**
 * Builds one branch of an `If` node. A branch sees the enclosing graph's tensors by name, so its
 * tensor names and constants come from the enclosing builder: names stay unique across the model
 * and a constant both branches use is stored once.
 */
class BranchBuilder extends GraphBuilder {
  constructor(
    name: string,
    private readonly outer: GraphBuilder,
  ) {
    super(name);
  }

  override fresh(hint: string): string {
    return this.outer.fresh(hint);
  }

  override initializer(name: string, type: ElementType, dims: readonly number[], bytes: Uint8Array): string {
    return this.outer.initializer(name, type, dims, bytes);
  }

  override constInt64(values: readonly number[], dims?: readonly number[]): string {
    return this.outer.constInt64(values, dims);
  }

  override constFloat(values: readonly number[], dims?: readonly number[]): string {
    return this.outer.constFloat(values, dims);
  }
}

export interface IfBranches {
  /** Node-name prefix of the branches (`<name>_then`, `<name>_else`). */
  readonly name: string;
  /** The output both branches produce. */
  readonly output: { readonly type: ElementType; readonly shape: readonly Dim[] };
  /** Each builds its ops on the builder it is given and returns the tensor it yields. */
  readonly whenTrue: (builder: GraphBuilder) => string;
  readonly whenFalse: (builder: GraphBuilder) => string;
}

/** An ONNX `If` over a bool scalar `condition`: only the taken branch runs. Returns its output. */
export function ifElse(builder: GraphBuilder, condition: string, branches: IfBranches): string {
  const branch = (which: 'then' | 'else') => {
    const body = new BranchBuilder(`${branches.name}_${which}`, builder);
    const value = (which === 'then' ? branches.whenTrue : branches.whenFalse)(body);
    body.output(value, value, branches.output.type, branches.output.shape);
    return body.toGraph();
  };
  return builder.op('If', [condition], { then_branch: { graph: branch('then') }, else_branch: { graph: branch('else') } });
}
