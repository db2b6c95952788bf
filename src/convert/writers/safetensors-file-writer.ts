import { open } from 'node:fs/promises';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { encodeSafetensorsHeader, type SafetensorsTensorLayout } from '../../formats/safetensors-encoder.js';

export interface SafetensorsFileTensor extends SafetensorsTensorLayout {
  /** Contiguous little-endian bytes, or a function producing them when their turn comes (one tensor in memory at a time). */
  readonly data: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

/**
 * Streams a safetensors file to disk: the header first (its offsets follow from shapes alone),
 * then each tensor's bytes in order. Used for `tables-<size>.safetensors` and
 * `mar-constants.safetensors`.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: readonly SafetensorsFileTensor[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const { prefix, byteLengths } = encodeSafetensorsHeader(tensors, metadata);
  const handle = await open(path, 'w');
  try {
    await handle.write(prefix);
    for (const [index, tensor] of tensors.entries()) {
      const data = typeof tensor.data === 'function' ? await tensor.data() : tensor.data;
      if (data.length !== byteLengths[index]) {
        throw new InvalidModelError(
          `safetensors writer: tensor "${tensor.name}" has ${data.length} bytes, ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${byteLengths[index]}`,
        );
      }
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written);
        written += bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
}
