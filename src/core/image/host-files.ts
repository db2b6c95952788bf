/**
 * Local files as the image module reads them: paths and file: URLs (`loadImage('photo.png')`), and
 * the codecs' wasm files shipped inside their packages. Only a platform has them; the Node entry
 * point sets its access here (src/platform/node-file-access.ts), browsers have none, so the core
 * never imports Node built-ins.
 */
export interface HostFileAccess {
  readFile(path: string | URL): Promise<Uint8Array>;
  /** A wasm file inside a dependency, compiled once (the codecs' own glue would fetch it by file: URL). */
  compilePackagedWasm(specifier: string): Promise<WebAssembly.Module>;
}

let access: HostFileAccess | undefined;

export function setHostFileAccess(files: HostFileAccess | undefined): void {
  access = files;
}

/** The platform's local files, or undefined where there are none (browsers, workers). */
export function hostFileAccess(): HostFileAccess | undefined {
  return access;
}
