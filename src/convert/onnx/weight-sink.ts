import { closeSync, openSync, writeSync } from 'node:fs';

/** Where a graph's initializer bytes go: ONNX external data, possibly split across files. */
export interface ExternalLocation {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

export interface WeightSink {
  write(bytes: Uint8Array): ExternalLocation;
  /** File names written so far (relative to the graph file). */
  readonly files: readonly string[];
  close(): void;
}

// Browsers refuse single files of 2 GB and more; stay well under.
export const DEFAULT_MAX_FILE_BYTES = 1_900_000_000;
const ALIGN = 64;

/**
 * Streams initializers into `<base>.data`, `<base>.data.1`, ... as they are added, so a converter
 * never holds a whole model in memory.
 */
export class FileWeightSink implements WeightSink {
  private fd = -1;
  private offset = 0;
  private readonly names: string[] = [];

  constructor(
    private readonly directory: string,
    private readonly baseName: string,
    private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES,
  ) {}

  get files(): readonly string[] {
    return this.names;
  }

  write(bytes: Uint8Array): ExternalLocation {
    if (this.fd < 0 || (this.offset > 0 && this.offset + bytes.length > this.maxFileBytes)) this.roll();
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) writeSync(this.fd, new Uint8Array(pad));
    this.offset += pad;
    const offset = this.offset;
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.offset += bytes.length;
    return { location: this.names[this.names.length - 1], offset, length: bytes.length };
  }

  private roll(): void {
    if (this.fd >= 0) closeSync(this.fd);
    const name = this.names.length === 0 ? `${this.baseName}.data` : `${this.baseName}.data.${this.names.length}`;
    this.names.push(name);
    this.fd = openSync(`${this.directory}/${name}`, 'w');
    this.offset = 0;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Keeps external data in memory (tests, browser-side conversion). */
export class MemoryWeightSink implements WeightSink {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  constructor(private readonly name = 'model.onnx.data') {}
  get files(): readonly string[] {
    return this.chunks.length ? [this.name] : [];
  }
  write(bytes: Uint8Array): ExternalLocation {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.chunks.push(new Uint8Array(pad));
    this.offset += pad;
    const offset = this.offset;
    this.chunks.push(bytes.slice());
    this.offset += bytes.length;
    return { location: this.name, offset, length: bytes.length };
  }
  /** The whole external data file. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.offset);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
  close(): void {}
}
