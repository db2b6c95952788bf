import { hostFileAccess } from './host-files.js';

/** What the @jsquash decoders resolve to (an ImageData or its Node stand-in). */
export interface CodecImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

interface CodecModule {
  init(module?: WebAssembly.Module, options?: Record<string, unknown>): Promise<void> | void;
  default(buffer: ArrayBuffer): Promise<CodecImage>;
}

export interface WasmCodec {
  /** Decodes one file; `warnings` are the library's non-fatal messages (libjpeg's, for JPEG). */
  decode(bytes: Uint8Array): Promise<{ image: CodecImage; warnings: string[] }>;
}

const WASM_FILES = {
  jpeg: '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm',
  webp: '@jsquash/webp/codec/dec/webp_dec.wasm',
} as const;

export type CodecName = keyof typeof WASM_FILES;

const codecs = new Map<CodecName, Promise<WasmCodec>>();

async function importCodec(name: CodecName): Promise<CodecModule> {
  // Literal specifiers, so bundlers can see and ship each codec (and its wasm) as its own chunk.
  if (name === 'jpeg') return (await import('@jsquash/jpeg/decode.js')) as unknown as CodecModule;
  return (await import('@jsquash/webp/decode.js')) as unknown as CodecModule;
}

function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : (bytes.slice().buffer as ArrayBuffer);
}

async function createCodec(name: CodecName): Promise<WasmCodec> {
  const module = await importCodec(name);
  const files = hostFileAccess();
  let messages: string[] = [];
  // Emscripten prints libjpeg's warnings ("Premature end of JPEG file") to stderr; collect them.
  const options = { print: () => {}, printErr: (text: string) => messages.push(text) };
  const compiled = files ? await files.compilePackagedWasm(WASM_FILES[name]) : undefined;
  await module.init(compiled, options);

  // The decoder reports through one shared message sink, so calls run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    decode(bytes) {
      const run = queue.then(async () => {
        messages = [];
        try {
          const image = await module.default(exactBuffer(bytes));
          return { image, warnings: messages };
        } catch (error) {
          // A failed decode leaves the Emscripten instance unwound only in part: after ~100 of
          // them every later decode fails ("Aborted()", "memory access out of bounds") or hangs.
          // A fresh instance per failure keeps one hostile file from breaking the decoder.
          await module.init(compiled, options);
          // Emscripten's exit status says nothing; the library's last words say what went wrong.
          const said = messages.join('; ');
          throw new Error(said || (error instanceof Error ? error.message : String(error)), { cause: error });
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** Loads a @jsquash decoder on first use; a failed load is retried on the next call. */
export function wasmCodec(name: CodecName): Promise<WasmCodec> {
  let codec = codecs.get(name);
  if (!codec) {
    codec = createCodec(name);
    codecs.set(name, codec);
    codec.catch(() => codecs.delete(name));
  }
  return codec;
}
