import type { Dtype } from '../../spec/manifest.js';
/**
 * UniPic-3's converter entry (Node only): recognises a Qwen-Image-Edit-layout checkpoint and writes
 * a model folder naming this family (convert/convert-unipic3.ts). The runtime half is runtime.ts.
 */
import type { ConverterFamily } from '../../convert/family/converter-family.js';
import { type ConvertUnipic3Options, convertUnipic3, detectUnipic3 } from './convert/convert-unipic3.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { UNIPIC3_FAMILY } from './manifest.js';

export const unipic3Converter: ConverterFamily = {
  id: UNIPIC3_FAMILY,
  detect: detectUnipic3,
  convert: (path, outDir, options) => {
    const foreign = ['resolutions', 'fusedSampler', 'kvCache', 'structure'].filter((name) => options[name] !== undefined);
    if (foreign.length) {
      const message = `${foreign.join(', ')} do not apply to UniPic-3 checkpoints`;
      throw new InvalidOptionsError(message, { details: { issues: foreign.map((path) => ({ path, message })) } });
    }
    const { dtypes, ...rest } = options as ConvertUnipic3Options & { dtypes?: readonly Dtype[] };
    return convertUnipic3(path, outDir, { ...rest, ...(dtypes?.[0] ? { dtype: dtypes[0] } : {}) });
  },
};
