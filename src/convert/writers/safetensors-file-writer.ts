import { open, rename, rm } from 'node:fs/promises';
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
export async function writeSafetensorsFile(path: string, tensors: readonly SafetensorsFileTensor[], metadata: Readonly<Record<string, string>> = {}): Promise<void> {
  const { prefix, byteLengths } = encodeSafetensorsHeader(tensors, metadata);
  // Written beside the target and renamed when complete: no half-written file under the real name.
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w');
  let complete = false;
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
    complete = true;
  } finally {
    await handle.close();
    if (!complete) await rm(partial, { force: true });
  }
  await rename(partial, path);
}
