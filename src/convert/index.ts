// `unipic/convert` (Node only): official checkpoint → model folder, and the tiny model.
import { registerConverter } from './family/converter-registry.js';
import { unipic1Converter } from '../families/unipic1/converter.js';
import { kontextConverter } from '../families/unipic2-kontext/converter.js';
import { metaqueryConverter } from '../families/unipic2-metaquery/converter.js';
import { unipic3Converter } from '../families/unipic3/converter.js';

registerConverter(unipic1Converter);
registerConverter(kontextConverter);
registerConverter(metaqueryConverter);
registerConverter(unipic3Converter);

export { convertModel, detectConverter, registerConverter, registeredConverters } from './family/converter-registry.js';
export type { ConverterFamily, ConvertResult, CommonConvertOptions, ConvertedGraphInfo } from './family/converter-family.js';
export { GraphBuilder } from './onnx/graph-builder.js';
export {
  convertCheckpoint,
  inspectCheckpoint,
  type CheckpointInspection,
  type ConvertOptions,
  type ConvertSummary,
  type ConvertProgressEvent,
  type ConvertedGraph,
} from '../families/unipic1/convert/convert-checkpoint.js';
export { sideConfigSchema } from '../families/unipic1/convert/side-config.js';
export type { StructureField, CheckpointConfigSource } from '../families/unipic1/convert/infer-checkpoint-config.js';
/** @deprecated Renamed `CheckpointConfigSource`. */
export type { CheckpointConfigSource as StructureSource } from '../families/unipic1/convert/infer-checkpoint-config.js';
export type { ConfigAccount } from './config-account.js';
export { makeTinyCheckpoint, tinyCheckpointConfig, type MakeTinyOptions } from '../families/unipic1/convert/tiny/make-tiny.js';
/** @deprecated Renamed `tinyCheckpointConfig`. */
export { tinyCheckpointConfig as tinyStructure } from '../families/unipic1/convert/tiny/make-tiny.js';
export { UNIPIC_1_5B, checkpointConfigSchema, toModelConfig, type CheckpointConfig } from '../families/unipic1/convert/checkpoint-config.js';
/** @deprecated Renamed `CheckpointConfig` (the structural numbers of a checkpoint's config). */
export type { CheckpointConfig as Structure } from '../families/unipic1/convert/checkpoint-config.js';
/** @deprecated Renamed `checkpointConfigSchema`. */
export { checkpointConfigSchema as structureSchema } from '../families/unipic1/convert/checkpoint-config.js';
export { accountKeys, requiredKeys, IGNORED_KEY_PATTERNS, type KeyAccount } from '../families/unipic1/convert/key-map.js';
export type { Dtype } from '../spec/manifest.js';
export { convertKontextCheckpoint, type KontextConvertOptions, type KontextConvertSummary } from '../families/unipic2-kontext/convert/convert-kontext.js';
export { makeTinyKontextCheckpoint } from '../families/unipic2-kontext/convert/tiny-kontext.js';
export { isKontextCheckpoint } from '../families/unipic2-kontext/convert/kontext-checkpoint.js';
// Hub downloads on their own (what `convertCheckpoint('hf:…')` fetches), into the standard HF cache.
export { fetchHubFiles, type FetchHubFilesOptions, type FetchedSnapshot } from '../node/hf-cache/fetch-hub-files.js';
export type { HubFileRequest, HubRepoFile } from '../core/hub/hub-files.js';
export type { HubCheckpointFamily, HubCheckpointLocation, HubConvertOptions } from './hub/convert-from-hub.js';
export { uniPic1HubCheckpoint, selectUniPic1Files } from '../families/unipic1/convert/hub-files.js';
