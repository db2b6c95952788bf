import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubFixture } from '../hub/support/hub-fixture.js';
import { readFolder } from '../hub/support/hub-server.js';
import { tinyModelDir } from '../support/tiny-model.js';
import { ensureBuiltPackage } from './support/built-package.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import type { HubLoad } from './pages/hub-page.js';

// The built package in Chromium loads `hf:` models from a local Hub on another origin (CORS, the
// CDN redirect on a third), into the Cache API; the token goes to the Hub only and into no error.
const REPO = 'someone/unipic-tiny-gated';

describe("UniPic.load('hf:…') in Chromium", () => {
  let hub: HubFixture;
  let site: StaticServer;
  let browser: BrowserSession;
  let page: Page;

  const load = (id: string, token?: string, offline = false) =>
    page.evaluate(([i, endpoint, t, o]) => (globalThis as unknown as { loadFromHub: (...a: unknown[]) => Promise<HubLoad> }).loadFromHub(i, endpoint, t, o), [
      id,
      hub.endpoint,
      token,
      offline,
    ] as const);

  beforeAll(async () => {
    await ensureBuiltPackage();
    hub = await startHub();
    const model = await readFolder(await tinyModelDir(['fp32']));
    hub.hub.publish(REPO, new Map<string, Buffer>([...model].map(([path, bytes]) => [`onnx/${path}`, bytes] as const)), { gated: true });
    site = await startStaticServer({
      folders: { '/ort/': ORT_WEB_DIST },
      files: { '/index.html': pageHtml('/page.js'), '/page.js': await bundlePage(fileURLToPath(new URL('pages/hub-page.ts', import.meta.url))) },
    });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(site.url('/index.html'));
    await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await hub?.dispose();
  });

  it('a gated repository: refused without the token, loaded with it, then from the Cache API with no request', async () => {
    const refused = await load(`hf:${REPO}/onnx`);
    expect(refused).toMatchObject({ ok: false, code: 'HUB_ACCESS_DENIED' });

    const first = await load(`hf:${REPO}/onnx`, hub.hub.token);
    expect(first, JSON.stringify(first)).toMatchObject({ ok: true, capabilities: ['understand'] });
    expect(first.phases).toContain('download');
    const withToken = hub.hub.requests.filter((request) => request.method !== 'OPTIONS' && request.authorization !== undefined);
    expect(withToken.length).toBeGreaterThan(0);
    for (const request of withToken) expect(request.authorization).toBe(`Bearer ${hub.hub.token}`);
    // The browser followed the redirect to the CDN (another origin) without the token.
    expect(hub.hub.cdn.requests.filter((request) => request.status !== undefined).length).toBeGreaterThan(0);
    for (const request of hub.hub.cdn.requests) expect(request.authorization).toBeUndefined();

    const hubBefore = hub.hub.requests.length;
    const cdnBefore = hub.hub.cdn.requests.length;
    const again = await load(`hf:${REPO}/onnx`, hub.hub.token, true);
    expect(again).toMatchObject({ ok: true });
    expect(again.phases).not.toContain('download');
    expect(hub.hub.requests.length).toBe(hubBefore);
    expect(hub.hub.cdn.requests.length).toBe(cdnBefore);

    const missing = await load(`hf:${REPO}/nothing`, hub.hub.token);
    expect(missing).toMatchObject({ ok: false, code: 'HUB_ENTRY_NOT_FOUND' });
    for (const outcome of [refused, missing]) expect(outcome.errorText).not.toContain(hub.hub.token);
    expect(browser.log.join('\n')).not.toContain(hub.hub.token);
  });
});
