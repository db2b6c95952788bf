import { InvalidModelError } from '../errors/invalid-model-error.js';
import { isFloatDtype, type TensorDtype } from '../formats/tensor-dtype.js';
import type { TensorDescriptor } from './readers/tensor-descriptor.js';

/** Every tensor a set of graphs needs, by checkpoint key, with its shape. */
export type ExpectedShapes = Map<string, readonly number[]>;

export interface KeyAccount {
  /** Keys the graphs are built from. */
  readonly required: readonly string[];
  readonly ignored: readonly { key: string; why: string }[];
}

const READABLE: ReadonlySet<TensorDtype> = new Set<TensorDtype>(['float32', 'float16', 'bfloat16']);

export function linearShapes(out: ExpectedShapes, name: string, rows: number, columns: number, bias = true): void {
  out.set(`${name}.weight`, [rows, columns]);
  if (bias) out.set(`${name}.bias`, [rows]);
}

export function vectorPair(out: ExpectedShapes, name: string, width: number): void {
  out.set(`${name}.weight`, [width]);
  out.set(`${name}.bias`, [width]);
}

export function convShapes(out: ExpectedShapes, name: string, cout: number, cin: number, k: number): void {
  out.set(`${name}.weight`, [cout, cin, k, k]);
  out.set(`${name}.bias`, [cout]);
}

/**
 * Sorts every key into required (shape and dtype checked) or knowingly ignored (`ignoredReason`
 * gives the reason); anything else is refused, as is a missing, misshapen or non-float required
 * tensor — so a checkpoint converts completely or not at all.
 */
export function accountKeys(
  expected: ReadonlyMap<string, readonly number[]>,
  tensors: ReadonlyMap<string, TensorDescriptor>,
  ignoredReason: (key: string) => string | undefined,
): KeyAccount {
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const misshapen: { key: string; shape: readonly number[]; expected: readonly number[] }[] = [];
  const badDtype: { key: string; dtype: string }[] = [];
  const ignored: { key: string; why: string }[] = [];
  const unknown: string[] = [];
  for (const [key, tensor] of tensors) {
    const shape = expected.get(key);
    if (shape) {
      if (shape.join() !== tensor.shape.join()) misshapen.push({ key, shape: tensor.shape, expected: shape });
      if (!READABLE.has(tensor.dtype) || !isFloatDtype(tensor.dtype)) badDtype.push({ key, dtype: tensor.dtype });
      continue;
    }
    const why = ignoredReason(key);
    if (why) ignored.push({ key, why });
    else unknown.push(key);
  }
  if (missing.length)
    throw new InvalidModelError(`the checkpoint lacks ${missing.length} required weights: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, {
      details: { missing },
    });
  if (misshapen.length) {
    const first = misshapen[0];
    throw new InvalidModelError(
      `${misshapen.length} weights have unexpected shapes, e.g. ${first.key}: [${first.shape.join(', ')}] instead of [${first.expected.join(', ')}]`,
      { details: { misshapen } },
    );
  }
  if (badDtype.length) {
    throw new InvalidModelError(`${badDtype.length} weights are not bf16/fp16/fp32, e.g. ${badDtype[0].key}: ${badDtype[0].dtype}`, {
      details: { notFloat: badDtype },
    });
  }
  if (unknown.length) {
    throw new InvalidModelError(
      `the checkpoint has ${unknown.length} keys this converter does not know: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
      { details: { unknown } },
    );
  }
  return { required: [...expected.keys()], ignored };
}
