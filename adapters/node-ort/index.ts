export { NodeOrtBackend, type NodeOrtBackendOptions } from './node-ort-backend.js';
export { NODE_ORT_DEVICES, type NodeOrtDevice, type NodeOrtInitExtra, type NodeOrtSessionExtra } from './node-ort-options.js';
export { NODE_INSTALL_HINT } from './load-onnxruntime-node.js';
export type { DeviceFallbackWarning } from '../shared/device-resolution.js';
