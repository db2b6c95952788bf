import { UniPic, UniPicError, type LoadProgressEvent } from 'unipic';

/** Where the page finds onnxruntime-web's files (the test server's origin). */
const ORT_FILES = new URL('/ort/', location.href).href;

export interface HubLoad {
  readonly ok: boolean;
  readonly phases?: string[];
  readonly name?: string;
  readonly capabilities?: string[];
  readonly code?: string;
  /** Everything the error carries (message, serialised form, stack), to scan for the token. */
  readonly errorText?: string;
}

/** `UniPic.load('hf:…')` in the page, with the Hub options browsers take instead of HF_* variables. */
async function loadFromHub(id: string, endpoint: string, token?: string, offline = false): Promise<HubLoad> {
  const phases = new Set<string>();
  try {
    const model = await UniPic.load(id, {
      hub: { endpoint, ...(token ? { token } : {}) },
      offline,
      device: 'wasm',
      dtype: 'fp32',
      capabilities: ['understand'],
      backendOptions: { wasmPaths: ORT_FILES, numThreads: 1 },
      onProgress: (event: LoadProgressEvent) => phases.add(event.phase),
    });
    const result = { ok: true, phases: [...phases], name: model.manifest.name, capabilities: [...model.capabilities] };
    await model.dispose();
    return result;
  } catch (error) {
    const serialised = UniPicError.isInstance(error) ? JSON.stringify(error.toJSON()) : '';
    return {
      ok: false,
      ...(UniPicError.isInstance(error) ? { code: error.code } : {}),
      errorText: `${(error as Error).message}\n${serialised}\n${(error as Error).stack ?? ''}`,
    };
  }
}

Object.assign(globalThis, { loadFromHub, pageReady: true });
