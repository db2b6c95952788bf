import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../src/convert/onnx/proto.js';
import { addProbeModel, float16ProbeModel, identityModel } from '../../adapters/shared/probe-models.js';
import { ProtobufWriter } from '../../adapters/shared/protobuf-writer.js';

describe('hand-encoded probe models', () => {
  it('decode with onnx-proto (an independent protobuf implementation) to the intended graphs', () => {
    const add = onnx.ModelProto.decode(addProbeModel());
    expect(Number(add.irVersion)).toBe(10);
    expect(add.opsetImport.map((opset) => [opset.domain, Number(opset.version)])).toEqual([['', 21]]);
    expect(add.graph?.node?.map((node) => [node.opType, node.input, node.output])).toEqual([['Add', ['a', 'b'], ['c']]]);
    expect(add.graph?.input?.map((input) => input.name)).toEqual(['a', 'b']);
    const dims = add.graph?.input?.[0].type?.tensorType?.shape?.dim?.map((dim) => Number(dim.dimValue));
    expect(dims).toEqual([2]);

    const half = onnx.ModelProto.decode(float16ProbeModel());
    const casts = half.graph?.node?.filter((node) => node.opType === 'Cast') ?? [];
    expect(casts.map((node) => Number(node.attribute?.[0].i))).toEqual([onnx.TensorProto.DataType.FLOAT16, onnx.TensorProto.DataType.FLOAT]);
    expect(casts[0].attribute?.[0].type).toBe(onnx.AttributeProto.AttributeType.INT);

    const identity = onnx.ModelProto.decode(identityModel('int64'));
    expect(identity.graph?.input?.[0].type?.tensorType?.elemType).toBe(onnx.TensorProto.DataType.INT64);
    // No shape at all: the Identity accepts any rank.
    expect(identity.graph?.input?.[0].type?.tensorType?.shape).toBeFalsy();
  });

  it('run on ONNX Runtime with the expected results', async () => {
    const add = await ort.InferenceSession.create(addProbeModel());
    const sum = await add.run({ a: new ort.Tensor('float32', new Float32Array([1, 2]), [2]), b: new ort.Tensor('float32', new Float32Array([3, 4]), [2]) });
    expect(Array.from(sum.c.data as Float32Array)).toEqual([4, 6]);
    await add.release();

    const half = await ort.InferenceSession.create(float16ProbeModel());
    const doubled = await half.run({ x: new ort.Tensor('float32', new Float32Array([1.5, -2]), [2]) });
    expect(Array.from(doubled.y.data as Float32Array)).toEqual([3, -4]);
    await half.release();

    const identity = await ort.InferenceSession.create(identityModel('int64'));
    const ids = BigInt64Array.from([1n, -2n, 9_007_199_254_740_993n, 4n]);
    const copied = await identity.run({ x: new ort.Tensor('int64', ids, [2, 2]) });
    expect(copied.y.dims).toEqual([2, 2]);
    expect(Array.from(copied.y.data as BigInt64Array)).toEqual(Array.from(ids));
    await identity.release();
  });

  it('encodes varints like protobuf: 300 is AC 02, and refuses negative values', () => {
    expect(Array.from(new ProtobufWriter().varint(1, 300).finish())).toEqual([0x08, 0xac, 0x02]);
    expect(Array.from(new ProtobufWriter().string(2, 'hi').finish())).toEqual([0x12, 0x02, 0x68, 0x69]);
    expect(() => new ProtobufWriter().varint(1, -1)).toThrow(RangeError);
  });
});
