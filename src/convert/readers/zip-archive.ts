import { open, type FileHandle } from 'node:fs/promises';
import yauzl from 'yauzl';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { readExactly } from './file-range.js';
import { awaitWholeCheckpointFile } from './arriving-files.js';

export interface ZipEntryInfo {
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

/** Where a stored entry's bytes sit in the file. */
export interface ZipDataRange {
  readonly offset: number;
  readonly length: number;
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

/**
 * A zip file read the way PyTorch checkpoints need it: yauzl parses and checks the central
 * directory (ZIP64 included), then entries are read as byte ranges of the file itself, so a
 * tensor is read straight from disk without inflating or buffering the rest of the archive.
 * Only stored (uncompressed) entries can be read; PyTorch never compresses.
 */
export class ZipArchive {
  private readonly ranges = new Map<string, Promise<ZipDataRange>>();

  private constructor(
    readonly path: string,
    readonly size: number,
    readonly entries: ReadonlyMap<string, ZipEntryInfo>,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<ZipArchive> {
    // The central directory is at the end: a streamed archive is read once it has fully arrived.
    awaitWholeCheckpointFile(path);
    const entries = await listEntries(path);
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new ZipArchive(path, size, entries, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The file range holding a stored entry's bytes, from its local header (whose extra field may differ from the central one). */
  dataRange(name: string): Promise<ZipDataRange> {
    let range = this.ranges.get(name);
    if (!range) {
      range = this.resolveRange(name);
      this.ranges.set(name, range);
    }
    return range;
  }

  private async resolveRange(name: string): Promise<ZipDataRange> {
    const entry = this.entries.get(name);
    if (!entry) throw new InvalidModelError(`${this.path}: the archive has no entry "${name}"`);
    if (entry.compressionMethod !== 0) {
      throw new InvalidModelError(
        `${this.path}: entry "${name}" is compressed (method ${entry.compressionMethod}); PyTorch writes stored entries, re-save the checkpoint with torch.save`,
      );
    }
    if (entry.compressedSize !== entry.uncompressedSize) {
      throw new InvalidModelError(`${this.path}: stored entry "${name}" has different compressed and uncompressed sizes`);
    }
    if (entry.localHeaderOffset + LOCAL_HEADER_BYTES > this.size) {
      throw new InvalidModelError(`${this.path}: entry "${name}" has its header past the end of the file (truncated?)`);
    }
    const header = await readExactly(this.handle, entry.localHeaderOffset, LOCAL_HEADER_BYTES, this.path);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) {
      throw new InvalidModelError(`${this.path}: entry "${name}" has no local file header (corrupt zip)`);
    }
    const nameLength = view.getUint16(26, true);
    const extraLength = view.getUint16(28, true);
    const offset = entry.localHeaderOffset + LOCAL_HEADER_BYTES + nameLength + extraLength;
    if (offset + entry.compressedSize > this.size) {
      throw new InvalidModelError(`${this.path}: entry "${name}" needs bytes up to ${offset + entry.compressedSize} but the file has ${this.size} (truncated?)`);
    }
    const localName = await readExactly(this.handle, entry.localHeaderOffset + LOCAL_HEADER_BYTES, nameLength, this.path);
    if (Buffer.from(localName).toString('utf8') !== name) {
      throw new InvalidModelError(`${this.path}: entry "${name}" has a different name in its local header (corrupt zip)`);
    }
    return { offset, length: entry.compressedSize };
  }

  /** Bytes `[start, start + length)` of a stored entry. */
  async readRange(name: string, start: number, length: number): Promise<Uint8Array> {
    const range = await this.dataRange(name);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > range.length) {
      throw new InvalidModelError(`${this.path}: bytes ${start}..${start + length} are outside entry "${name}" (${range.length} bytes)`);
    }
    return readExactly(this.handle, range.offset + start, length, this.path);
  }

  /** A whole stored entry, refusing entries larger than `maxBytes` (a small record such as `data.pkl`). */
  async readEntry(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
    const range = await this.dataRange(name);
    if (range.length > maxBytes) {
      throw new InvalidModelError(`${this.path}: entry "${name}" is ${range.length} bytes, more than the ${maxBytes} allowed`);
    }
    return readExactly(this.handle, range.offset, range.length, this.path);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function listEntries(path: string): Promise<Map<string, ZipEntryInfo>> {
  const entries = new Map<string, ZipEntryInfo>();
  try {
    const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true });
    for await (const entry of zip.eachEntry()) {
      if (entries.has(entry.fileName)) throw new InvalidModelError(`${path}: the archive holds "${entry.fileName}" twice`);
      entries.set(entry.fileName, {
        name: entry.fileName,
        compressionMethod: entry.compressionMethod,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        localHeaderOffset: entry.relativeOffsetOfLocalHeader,
      });
    }
  } catch (cause) {
    if (cause instanceof InvalidModelError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelNotFoundError(`checkpoint file ${path} does not exist`, { cause });
    }
    throw new InvalidModelError(`${path} is not a readable zip archive: ${(cause as Error).message}`, { cause });
  }
  return entries;
}
