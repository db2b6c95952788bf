import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Options } from 'tsup';
import { BUILT_BROWSER_ENTRY, BUILT_WORKER_ENTRY, REPOSITORY_ROOT } from './bundle-page.js';

const SOURCE_FOLDERS = ['src', 'adapters'].map((folder) => join(REPOSITORY_ROOT, folder));
const LOCK = join(REPOSITORY_ROOT, 'test', '.artifacts', 'browser-build.lock');

function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  if (!existsSync(BUILT_BROWSER_ENTRY) || !existsSync(BUILT_WORKER_ENTRY)) return false;
  const built = Math.min(statSync(BUILT_BROWSER_ENTRY).mtimeMs, statSync(BUILT_WORKER_ENTRY).mtimeMs);
  return built >= Math.max(...SOURCE_FOLDERS.map(newestSource), statSync(join(REPOSITORY_ROOT, 'tsup.config.ts')).mtimeMs);
}

async function withLock<T>(body: () => Promise<T>): Promise<T> {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test file is building; a lock older than two minutes belongs to a dead process.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Make sure dist/browser is the build of the current sources. The browser tests load the built
 * package, yet CI runs `npm test` on a fresh clone; when dist/browser is missing or older than
 * src/ or adapters/, this runs the browser entry of tsup.config.ts (JavaScript only: the
 * declarations are `npm run build`'s job and are left as they are).
 */
export async function ensureBuiltPackage(): Promise<void> {
  if (isFresh()) return;
  await withLock(async () => {
    if (isFresh()) return;
    const configs = (await import(join(REPOSITORY_ROOT, 'tsup.config.ts'))).default as Options[];
    const browser = configs.find((config) => String(config.outDir).replace(/\/$/, '') === 'dist/browser');
    if (!browser) throw new Error('tsup.config.ts has no dist/browser build');
    const previous = process.cwd();
    process.chdir(REPOSITORY_ROOT);
    try {
      await build({ ...browser, dts: false, clean: false, silent: true, config: false });
    } finally {
      process.chdir(previous);
    }
  });
}
