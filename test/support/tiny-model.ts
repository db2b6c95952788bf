import type { Dtype, KvCacheKind } from '../../src/spec/manifest.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { makeTinyCheckpoint } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { publishFolder } from './publish-folder.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '.artifacts');

/**
 * The repo's tiny model (make-tiny + convert, fp32 and q4), built once per checkout into
 * test/.artifacts/ and shared by every test file. Built into a temporary folder and published
 * (publishFolder), so parallel workers never see a half-written model. `kvCache: 'concat'` converts
 * it the way folders were converted before the in-place KV cache (the `llm` graph chains `present.*`).
 */
export async function tinyModelDir(dtypes: Dtype[] = ['fp32', 'q4'], options: { kvCache?: KvCacheKind } = {}): Promise<string> {
  const name = `tiny-model-${dtypes.join('-')}${options.kvCache === 'concat' ? '-concat' : ''}`;
  const target = join(ARTIFACTS, name);
  if (existsSync(join(target, 'unipic.json'))) return target;
  const work = join(ARTIFACTS, `${name}.${process.pid}.${Date.now()}`);
  mkdirSync(work, { recursive: true });
  try {
    await makeTinyCheckpoint(join(work, 'checkpoint'));
    await convertCheckpoint(join(work, 'checkpoint'), join(work, 'model'), { dtypes, ...options });
    publishFolder(join(work, 'model'), target, 'unipic.json');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

/** The tiny checkpoint in the official layout (for converter tests). */
export async function tinyCheckpointDir(): Promise<string> {
  const target = join(ARTIFACTS, 'tiny-checkpoint');
  if (existsSync(join(target, 'unipic-config.json'))) return target;
  const work = `${target}.${process.pid}.${Date.now()}`;
  await makeTinyCheckpoint(work);
  publishFolder(work, target, 'unipic-config.json');
  return target;
}
