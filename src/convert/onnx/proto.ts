// onnx-proto ships CommonJS; one import point keeps the interop in one place.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNamespace } from 'onnx-proto';

export const onnx = onnxProto.onnx;
// The same name as a type namespace, so `onnx.INodeProto` works beside the value.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace onnx {
  export type INodeProto = OnnxNamespace.INodeProto;
  export type IValueInfoProto = OnnxNamespace.IValueInfoProto;
  export type ITensorProto = OnnxNamespace.ITensorProto;
  export type IAttributeProto = OnnxNamespace.IAttributeProto;
  export type IModelProto = OnnxNamespace.IModelProto;
  export type IGraphProto = OnnxNamespace.IGraphProto;
}
