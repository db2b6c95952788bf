// onnx-proto ships CommonJS; one import point keeps the interop in one place.
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
