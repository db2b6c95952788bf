// Types and values shared by every entry point.
export * from './errors/index.js';
export { Run, type RunController } from './core/run/run.js';
export type { UniPicEvents } from './core/model/model-events.js';
export type { LoadOptions } from './core/model/load-options.js';
export type { GenerateOptions } from './families/unipic1/options/generate-options.js';
export type { ImageResult, GenerateResult } from './families/unipic1/generation/image-result.js';
export type { ImageRunEvent, ImageTimings, PreviewImage } from './core/generation/events.js';
export type { GeneratedImage } from './core/image/generated-image.js';
export { SeededRandom, type RandomSource, type NoisePurpose } from './core/random/random-source.js';
export { MAX_SEED } from './core/options/common.js';
export type { LoadProgressEvent, LoadPhase, LoadProgressCallback } from './spec/progress.js';
export type { Backend, BackendInfo, BackendSession, Device, DeviceRequest, HostTensor, DeviceTensor } from './spec/backend.js';
export type { Manifest, Capability, Dtype } from './spec/manifest.js';
export type { ModelConfig, UniPic1Manifest, UniPic1GraphName as GraphName } from './families/unipic1/manifest.js';
export type { LlmConfig } from './spec/llm-config.js';
// Model families: plug-ins that give a manifest's `family` its tasks (docs/architecture.md).
export { registerFamily, registeredFamilies } from './core/family/family-registry.js';
export type { ModelFamily, FamilyTask, FamilyAssets } from './core/family/model-family.js';
export type { CallContext } from './core/model/model-context.js';
export type { Graphs, GraphRunOptions } from './core/model/graphs.js';
export type { TaskTypes } from './core/model/unipic-model.js';
export type { UniPic1Tasks } from './families/unipic1/runtime.js';
export { UniPicModel } from './core/model/unipic-model.js';
export type { EditOptions } from './families/unipic1/options/edit-options.js';
export type { UnderstandOptions } from './families/unipic1/options/understand-options.js';
export type { TextRunEvent, UnderstandResult, FinishReason, TextTimings } from './core/understanding/events.js';
export type { ImageInput } from './core/image/load-image.js';
export type { MaskInput, MaskGrid, MaskProblem } from './core/region/mask-input.js';
export type { OutpaintSpec } from './core/region/outpaint-canvas.js';
export {
  loadImage,
  crop2square,
  expand2square,
  resizeLikePillow,
  encodePng,
  toBlob,
  type LoadImageOptions,
  type RgbImage,
  type RgbaImage,
  type RawPixels,
} from './core/image/index.js';
// For custom backends and sources.
export { wrapBackend, type BackendMiddleware, type WrappedRun, type WrappedCreateSession } from './spec/wrap-backend.js';
export { BACKEND_SPECIFICATION_VERSION } from './spec/backend.js';
export type { BackendInitOptions, GraphSource, SessionOptions, RunOptions, Feed, TensorDataType } from './spec/backend.js';
export type { ModelSource } from './core/sources/model-source.js';
export type { FileMap } from './core/sources/file-map-source.js';
export type { FetchFunction } from './core/sources/fetch-source.js';
export type { SourceOptionsInput as SourceOptions } from './core/sources/source-options.js';
// Hugging Face Hub sources (`hf:<org>/<name>[@<revision>][/<folder>]`).
export { parseHubId, formatHubId, isHubId, type HubLocation } from './core/hub/hub-id.js';
export type { HubOptions } from './core/hub/hub-options.js';
export { WebOrtBackend } from '../adapters/web-ort/index.js';
