import type { HostFileAccess } from '../core/image/host-files.js';

/**
 * How the image module reads local files in Node (set by the Node entry point through
 * `setHostFileAccess`): the core itself never touches Node built-ins. The built-in specifiers
 * sit in variables so a browser bundler that follows this file anyway neither resolves nor pulls
 * them in.
 */
const FILE_SYSTEM = 'node:fs/promises';
const MODULE = 'node:module';
const URL_MODULE = 'node:url';

export async function readLocalFile(path: string | URL): Promise<Uint8Array> {
  const fs = (await import(/* @vite-ignore */ FILE_SYSTEM)) as typeof import('node:fs/promises');
  const url = (await import(/* @vite-ignore */ URL_MODULE)) as typeof import('node:url');
  const filePath = path instanceof URL ? url.fileURLToPath(path) : path;
  const buffer = await fs.readFile(filePath);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * A wasm file shipped inside a dependency, compiled once. The codecs' own glue would fetch it by
 * file: URL, which Node's fetch refuses.
 */
export function compilePackagedWasm(specifier: string): Promise<WebAssembly.Module> {
  let module = compiled.get(specifier);
  if (!module) {
    module = (async () => {
      const { createRequire } = (await import(/* @vite-ignore */ MODULE)) as typeof import('node:module');
      const fs = (await import(/* @vite-ignore */ FILE_SYSTEM)) as typeof import('node:fs/promises');
      return WebAssembly.compile(await fs.readFile(createRequire(import.meta.url).resolve(specifier)));
    })();
    compiled.set(specifier, module);
    module.catch(() => compiled.delete(specifier));
  }
  return module;
}

export const nodeFileAccess: HostFileAccess = { readFile: readLocalFile, compilePackagedWasm };
