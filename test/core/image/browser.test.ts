import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './support/fixtures.js';

const CHROMIUM = process.env.UNIPIC_CHROMIUM ?? '/usr/bin/chromium';
const require = createRequire(import.meta.url);

let server: Server;
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set UNIPIC_CHROMIUM)`);
  const result = await build({
    entryPoints: [new URL('./browser-page.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0].text;
  // The codecs fetch their wasm relative to the module that loads it: here, the bundle at /.
  const files: Record<string, [string, Buffer | string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>'],
    '/page.js': ['text/javascript', bundle],
    '/mozjpeg_dec.wasm': ['application/wasm', readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'))],
    '/webp_dec.wasm': ['application/wasm', readFileSync(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm'))],
  };
  server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (files[path]) {
      response.writeHead(200, { 'content-type': files[path][0] });
      response.end(files[path][1]);
    } else if (path.startsWith('/fixtures/') && !path.includes('..') && existsSync(FIXTURES + path.slice('/fixtures/'.length))) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(readFileSync(FIXTURES + path.slice('/fixtures/'.length)));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('the image module in Chromium', () => {
  it('has no static node: imports in its browser bundle', () => {
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });

  it('decodes with the wasm codecs and reads real browser objects, matching Pillow exactly', async () => {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (message) => log.push(message.text()));
    page.on('pageerror', (error) => log.push(error.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const results = await page.evaluate(() => (window as unknown as { imageChecks: Promise<unknown> }).imageChecks);
    expect(results, log.join('\n')).not.toHaveProperty('error');
    // Max level difference against Pillow: 0 everywhere. The JPEG is 4:2:0, so 0 also proves the
    // MozJPEG wasm ran (the jpeg-js fallback differs by up to 66 levels on it).
    expect(results).toEqual({
      jpegBlob: 0,
      webpBytes: 0,
      pngRelativeUrl: 0,
      imageData: 0,
      canvas: 0,
      offscreenCanvas: 0,
      imageBitmap: 0,
      resize: 0,
      toBlobDecodesInBrowser: '128x128',
      pngRoundTrip: 0,
    });
    await page.close();
  });
});
