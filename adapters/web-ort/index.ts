export { WebOrtBackend, type WebOrtBackendOptions } from './web-ort-backend.js';
export { WEB_ORT_DEVICES, type WebOrtDevice, type WebOrtInitExtra, type WebOrtSessionExtra } from './web-ort-options.js';
export { WEB_INSTALL_HINT } from './load-onnxruntime-web.js';
export type { DeviceFallbackWarning } from '../shared/device-resolution.js';
