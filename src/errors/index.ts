export { UniPicError, type SerializedUniPicError } from './unipic-error.js';
export { InvalidOptionsError, type OptionIssue } from './invalid-options-error.js';
export { ModelNotFoundError } from './model-not-found-error.js';
export { IntegrityError } from './integrity-error.js';
export { BackendNotInstalledError } from './backend-not-installed-error.js';
export { BackendUnavailableError, type DeviceAttempt } from './backend-unavailable-error.js';
export { UnsupportedDeviceError } from './unsupported-device-error.js';
export { OutOfMemoryError } from './out-of-memory-error.js';
export { InvalidModelError } from './invalid-model-error.js';
export { InvalidInputError } from './invalid-input-error.js';
export { NumericError } from './numeric-error.js';
export { DisposedError } from './disposed-error.js';
export { UnsupportedTaskError } from './unsupported-task-error.js';
export { UnrecognizedCheckpointError } from './unrecognized-checkpoint-error.js';
export { OrtRuntimeError } from './ort-runtime-error.js';
export { AbortError, throwIfAborted, toAbortError } from './abort-error.js';
export { HubError, HUB_ERROR_CODES, type HubErrorCode, type HubErrorDetails } from './hub-error.js';
export { StructureNeededError, type StructureNeededDetails } from './structure-needed-error.js';
export {
  ResourceLimitError,
  type AttentionLimitDetails,
  type DeviceMemoryLimitDetails,
  type FileLimitDetails,
  type ResourceLimitDetails,
} from './resource-limit-error.js';
