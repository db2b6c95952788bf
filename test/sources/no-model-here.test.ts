import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '../../src/errors/index.js';
import { openNodeModel } from '../../src/node/open-node-model.js';

// The wrong place, as users point at it: a single-page-app server (index.html for every path), a
// 404, an unconverted checkpoint, a folder that is neither.
let server: Server;
let origin: string;
let scratch: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url?.startsWith('/missing/')) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>app</title></head><body></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  scratch = await mkdtemp(join(tmpdir(), 'unipic-no-model-'));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

async function failure(location: string): Promise<ModelNotFoundError> {
  const error = await openNodeModel(location, { cacheDir: join(scratch, 'cache'), retries: 0 }).catch((reason: unknown) => reason);
  expect(error).toBeInstanceOf(ModelNotFoundError);
  return error as ModelNotFoundError;
}

describe('no model at this location', () => {
  it('an HTML page instead of unipic.json (SPA fallback): "no model at", the URL tried, what a model folder holds', async () => {
    const error = await failure(`${origin}/app/models/unipic/`);
    expect(error.message).toBe(
      `no model at ${origin}/app/models/unipic/: ${origin}/app/models/unipic/unipic.json is a web page, not a unipic manifest ` +
        '(a single-page-app server answers its index.html for any path); a model folder is what `unipic convert` writes: ' +
        'unipic.json beside the graphs it lists (*.onnx with their *.onnx.data weights), tokenizer.json and the position tables',
    );
    expect(error.details).toMatchObject({ reason: 'no-model', location: `${origin}/app/models/unipic/unipic.json` });
  });

  it('a 404 for unipic.json: "no model at", with the status', async () => {
    const error = await failure(`${origin}/missing/`);
    expect(error.message).toMatch(
      new RegExp(`^no model at ${origin}/missing/: ${origin}/missing/unipic\\.json does not exist \\(HTTP 404\\); a model folder is what \`unipic convert\` writes`),
    );
  });

  it('an unconverted checkpoint folder: run unipic convert', async () => {
    const checkpoint = join(scratch, 'checkpoint');
    await mkdir(join(checkpoint, 'Qwen2.5-1.5B-Instruct'), { recursive: true });
    await writeFile(join(checkpoint, 'pytorch_model.bin'), '');
    await writeFile(join(checkpoint, 'kl16.ckpt'), '');
    const error = await failure(checkpoint);
    expect(error.message).toBe(
      `${checkpoint} is an unconverted checkpoint (it has kl16.ckpt, pytorch_model.bin), not a model folder: ` +
        `convert it first with \`npx unipic convert ${checkpoint} <out-dir>\`, then load <out-dir>`,
    );
  });

  it('a folder that is not a model, and one that does not exist, are named as such', async () => {
    const other = join(scratch, 'photos');
    await mkdir(other, { recursive: true });
    expect((await failure(other)).message).toMatch(new RegExp(`^${other} has no unipic.json, so it is not a model folder; a model folder is what`));
    expect((await failure(join(scratch, 'nowhere'))).message).toBe(`${join(scratch, 'nowhere')} does not exist`);
  });
});
