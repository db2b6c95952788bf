import { existsSync, readdirSync, statSync } from 'node:fs';
import { MODEL_FOLDER_CONTENTS } from '../core/sources/no-model-here.js';

/** Files that mark an official checkpoint (what `unipic convert` reads), not a converted model. */
const CHECKPOINT_FILE = /^(pytorch_model.*\.bin|pytorch_model\.bin\.index\.json|kl16\.ckpt|.*\.safetensors)$/;

/**
 * Why a local folder has no `unipic.json`, in words that say what to do: the folder is missing,
 * is an unconverted checkpoint (run `unipic convert`), or is something else.
 */
export function explainMissingModelFolder(root: string): string {
  if (!existsSync(root)) return `${root} does not exist`;
  if (!statSync(root).isDirectory()) return `${root} is a file; pass the model folder that holds unipic.json`;
  const checkpointFiles = readdirSync(root).filter((name) => CHECKPOINT_FILE.test(name));
  if (checkpointFiles.length > 0) {
    return (
      `${root} is an unconverted checkpoint (it has ${checkpointFiles.slice(0, 3).join(', ')}), not a model folder: ` +
      `convert it first with \`npx unipic convert ${root} <out-dir>\`, then load <out-dir>`
    );
  }
  return `${root} has no unipic.json, so it is not a model folder; ${MODEL_FOLDER_CONTENTS}`;
}
