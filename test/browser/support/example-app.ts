import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './bundle-page.js';

/** examples/browser, built and served the way its README tells a user to. */
export const EXAMPLE = join(REPOSITORY_ROOT, 'examples', 'browser');

// onnxruntime-node's installer is not involved (the example does not depend on it), but a user's
// environment may have the variable set from the root's install; keep it so.
const ENVIRONMENT = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };

/** The command's output on failure, so a red test says what npm or Vite printed. */
function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: EXAMPLE, env: ENVIRONMENT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} in ${EXAMPLE} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`));
    });
  });
}

/**
 * Whether examples/browser/node_modules already holds exactly what package-lock.json pins (npm
 * writes that record, node_modules/.package-lock.json, after every install): then `npm ci` is
 * skipped, so a second run needs no registry and takes no time.
 */
function installedMatchesLock(): boolean {
  const record = join(EXAMPLE, 'node_modules', '.package-lock.json');
  if (!existsSync(record)) return false;
  type Entry = { version?: string; optional?: boolean };
  const installed = JSON.parse(readFileSync(record, 'utf8')).packages as Record<string, Entry>;
  const locked = JSON.parse(readFileSync(join(EXAMPLE, 'package-lock.json'), 'utf8')).packages as Record<string, Entry>;
  const wanted = Object.entries(locked).filter(([path]) => path.startsWith('node_modules/'));
  // Optional packages for other platforms (rolldown's and lightningcss's bindings) are never installed here.
  const present = (path: string, entry: Entry) => installed[path]?.version === entry.version && existsSync(join(EXAMPLE, path));
  return wanted.every(([path, entry]) => present(path, entry) || (entry.optional === true && !(path in installed)));
}

/** `npm ci` in examples/browser (its own node_modules, from its committed lockfile). */
export async function installExample(): Promise<void> {
  if (installedMatchesLock()) return;
  // --prefer-offline: packages already in npm's cache are not fetched again.
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], 300_000);
}

/** Put a model folder where the README says (public/models/<name>/), then `npm run build`. */
export async function buildExample(models: Readonly<Record<string, string>>): Promise<string> {
  for (const [name, folder] of Object.entries(models)) {
    const target = join(EXAMPLE, 'public', 'models', name);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    cpSync(folder, target, { recursive: true });
  }
  await run('npm', ['run', 'build'], 180_000);
  return join(EXAMPLE, 'dist');
}

export interface PreviewServer {
  readonly origin: string;
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * `npm run preview` (Vite's static server for dist/, with the COOP/COEP headers of vite.config.ts)
 * on a port Vite binds itself (`--port 0`) and prints: a port picked here and handed over would be
 * free only until some other test's socket took it.
 */
export async function startPreview(): Promise<PreviewServer> {
  // Its own process group, so closing stops npm's shell and Vite together.
  const child: ChildProcess = spawn('npm', ['run', 'preview', '--', '--host', '127.0.0.1', '--port', '0', '--strictPort'], {
    cwd: EXAMPLE,
    // Plain text, for reading the address Vite prints.
    env: { ...ENVIRONMENT, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
  };
  const deadline = Date.now() + 60_000;
  let origin: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm run preview exited (${child.exitCode}):\n${output}`);
    // Vite's "Local:   http://127.0.0.1:<port>/" line.
    origin ??= /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    try {
      if (origin && (await fetch(`${origin}/`)).ok) {
        const served = origin;
        return { origin: served, url: (path) => new URL(path, served).href, close };
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`npm run preview did not answer${origin ? ` on ${origin}` : ''} within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
