/**
 * UniPic2-SD3.5M-Kontext's converter entry (Node only): recognises the diffusers folder by
 * `transformer/config.json` and converts it (convert/convert-kontext.ts). The runtime half is runtime.ts.
 */
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import type { ConverterFamily } from '../../convert/family/converter-family.js';
import { convertKontextCheckpoint, type KontextConvertOptions } from './convert/convert-kontext.js';
import { kontextHubCheckpoint } from './convert/hub-files.js';
import { isKontextCheckpoint } from './convert/kontext-checkpoint.js';

export const kontextConverter: ConverterFamily = {
  id: 'unipic2-kontext',
  detect: async (path) => ((await isKontextCheckpoint(path).catch(() => false)) ? 'certain' : undefined),
  hub: kontextHubCheckpoint,
  convert: (path, outDir, options) => {
    const foreign = ['resolutions', 'fusedSampler', 'kvCache', 'structure'].filter((name) => options[name] !== undefined);
    if (foreign.length) {
      const message = `${foreign.join(', ')} do not apply to UniPic2-SD3.5M-Kontext checkpoints`;
      throw new InvalidOptionsError(message, { details: { issues: foreign.map((path) => ({ path, message })) } });
    }
    return convertKontextCheckpoint(path, outDir, options as KontextConvertOptions) as never;
  },
};
