// `unipic/convert` (Node only): official checkpoint → model folder, and the tiny model.
import { registerConverter } from './family/converter-registry.js';
import { unipic1Converter } from '../families/unipic1/converter.js';

registerConverter(unipic1Converter);

export { convertModel, detectConverter, registerConverter, registeredConverters } from './family/converter-registry.js';
export type { ConverterFamily, ConvertResult, CommonConvertOptions, ConvertedGraphInfo } from './family/converter-family.js';
export { GraphBuilder } from './onnx/graph-builder.js';
export { convertCheckpoint, type ConvertOptions, type ConvertSummary, type ConvertProgressEvent, type ConvertedGraph } from '../families/unipic1/convert/convert-checkpoint.js';
export { makeTinyCheckpoint, tinyStructure, type MakeTinyOptions } from '../families/unipic1/convert/tiny/make-tiny.js';
export { UNIPIC_1_5B, structureSchema, toModelConfig, type Structure } from '../families/unipic1/convert/structure.js';
export { accountKeys, requiredKeys, IGNORED_KEY_PATTERNS, type KeyAccount } from '../families/unipic1/convert/key-map.js';
export type { GraphDtype } from './graphs/weights.js';
