// Node writers: PyTorch-loadable checkpoints (for make-tiny) and safetensors files (tables, constants).
export {
  writeTorchCheckpoint,
  writeKl16Checkpoint,
  type TorchTensorInput,
  type TorchStorageInput,
  type WriteTorchCheckpointOptions,
} from './torch-checkpoint-writer.js';
export { writeSafetensorsFile, type SafetensorsFileTensor } from './safetensors-file-writer.js';
export { PickleEncoder } from './pickle-encoder.js';
