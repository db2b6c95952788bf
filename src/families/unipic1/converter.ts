/**
 * UniPic-1's converter entry (Node only): recognises the official checkpoint folder and converts it
 * with UniPic-1's plan. Registered by `unipic/convert` and the CLI; the runtime half is runtime.ts.
 */
import type { ConverterFamily } from '../../convert/family/converter-family.js';
import { convertCheckpoint, type ConvertOptions } from './convert/convert-checkpoint.js';
import { uniPic1HubCheckpoint } from './convert/hub-files.js';
import { detectUniPicCheckpoint } from './convert/open-checkpoint.js';

export const unipic1Converter: ConverterFamily = {
  id: 'unipic1',
  detect: detectUniPicCheckpoint,
  hub: uniPic1HubCheckpoint,
  acceptsHubIds: true,
  convert: (path, outDir, options) => convertCheckpoint(path, outDir, options as ConvertOptions),
};
