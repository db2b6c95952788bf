import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { MANIFEST_FILE, type ModelSource } from './model-source.js';

/** What a model folder holds, for messages that tell the user they pointed somewhere else. */
export const MODEL_FOLDER_CONTENTS =
  'a model folder is what `unipic convert` writes: unipic.json beside the graphs it lists (*.onnx with their *.onnx.data weights), tokenizer.json and the position tables';

/** Where `unipic.json` was looked for: the URL itself for URL sources. */
export function manifestLocation(source: ModelSource): string {
  return source.kind === 'url' ? `${source.description}${MANIFEST_FILE}` : `${MANIFEST_FILE} from ${source.description}`;
}

/**
 * Servers of single-page apps (Vite's, most static hosts with a fallback) answer index.html for any
 * path, so a wrong model URL yields a web page with status 200. Recognised by its first character:
 * a manifest is a JSON object, a page starts with `<`.
 */
export function looksLikeHtml(text: string): boolean {
  return text.trimStart().startsWith('<');
}

export function noModelAt(source: ModelSource, why: string, cause?: unknown): ModelNotFoundError {
  const location = manifestLocation(source);
  return new ModelNotFoundError(`no model at ${source.description}: ${why}; ${MODEL_FOLDER_CONTENTS}`, {
    ...(cause !== undefined ? { cause } : {}),
    details: { path: MANIFEST_FILE, location, reason: 'no-model' },
  });
}
