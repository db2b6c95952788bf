// Isomorphic checkpoint and tensor formats (no Node APIs): usable by the converter and the browser core.
export { TENSOR_DTYPES, DTYPE_BYTE_SIZE, isFloatDtype, elementCount, type TensorDtype } from './tensor-dtype.js';
export { bytesToFloat32, float16ToFloat32, bfloat16ToFloat32, float32ToFloat16, float32ToBfloat16 } from './float-conversion.js';
export { contiguousStride, isContiguous, viewSpan, gatherStrided, type StorageSpan } from './strided-layout.js';
export {
  decodeSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  MAX_SAFETENSORS_HEADER_BYTES,
  SAFETENSORS_PREFIX_BYTES,
  SAFETENSORS_DTYPE_NAMES,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
  type DecodedSafetensor,
} from './safetensors.js';
export {
  encodeSafetensors,
  encodeSafetensorsHeader,
  type SafetensorsTensorLayout,
  type SafetensorsTensorInput,
  type EncodedSafetensorsHeader,
} from './safetensors-encoder.js';
export { unpickle, type PicklePolicy } from './pickle/pickle-machine.js';
export { PickleDict, PickleList, PickleTuple, PickleObject, type PickleValue, type PickleKey } from './pickle/pickle-values.js';
export {
  torchPicklePolicy,
  TORCH_STORAGE_DTYPES,
  TorchTensorRecord,
  TorchStorageReference,
  TorchStorageType,
} from './torch/torch-pickle-policy.js';
export { collectTorchTensors, type CollectedTorchTensors } from './torch/torch-state-dict.js';
