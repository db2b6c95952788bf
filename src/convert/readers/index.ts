// Node readers for checkpoints: every tensor is read on demand, one at a time, straight from disk.
export { openTorchCheckpoint, TorchCheckpoint, type OpenTorchCheckpointOptions } from './torch-checkpoint-reader.js';
export { openSafetensorsFile, SafetensorsFile } from './safetensors-file-reader.js';
export { openShardedCheckpoint, ShardedCheckpoint } from './sharded-checkpoint-reader.js';
export { ZipArchive, type ZipEntryInfo, type ZipDataRange } from './zip-archive.js';
export { findSharedStorages, type TensorDescriptor, type StorageDescriptor, type TensorSource } from './tensor-descriptor.js';
