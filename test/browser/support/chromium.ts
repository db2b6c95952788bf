import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; never a browser downloaded by Playwright (CI installs this package). */
export const CHROMIUM_PATH = process.env.UNIPIC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags that give headless Chromium a WebGPU adapter on a machine without a GPU: Vulkan through
 * the SwiftShader ICD the Debian package ships. `--enable-unsafe-webgpu` is the one that matters
 * (without it `requestAdapter()` returns null on Linux).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
];

export interface BrowserSession {
  readonly context: BrowserContext;
  /** Everything pages printed and every uncaught page error, for failure messages. */
  readonly log: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Launch Chromium with a fresh profile (so the Cache API starts empty). Throws, never skips, when
 * the browser is missing: a browser test that silently does nothing proves nothing.
 */
export async function launchChromium(options: { readonly args?: readonly string[] } = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set UNIPIC_CHROMIUM)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'unipic-chromium-'));
  // Chromium looks for a runtime dir and prints warnings without one.
  const runtimeDirectory = join(profile, 'xdg-runtime');
  await mkdir(runtimeDirectory, { mode: 0o700 });
  const context = await chromium.launchPersistentContext(join(profile, 'user-data'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...(options.args ?? CHROMIUM_ARGS)],
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDirectory },
    viewport: { width: 1100, height: 800 },
  });
  const log: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (message) => log.push(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (error) => log.push(`[pageerror] ${error.message}`));
    page.on('worker', (worker) => worker.on('console', (message) => log.push(`[worker ${message.type()}] ${message.text()}`)));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    log,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
