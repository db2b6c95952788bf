import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/spec/manifest.js';
import { REPO, startHub, tinyRepoFiles, type HubFixture } from '../hub/support/hub-fixture.js';

// `unipic convert hf:…` as a user runs it, against the local Hub, configured only through the
// environment (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_OFFLINE); the token must appear in no output.
const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let fixture: HubFixture;
let commit: string;

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HF_') && !name.startsWith('HUGGING')));
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...clean, ...env }, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  fixture = await startHub();
  commit = fixture.hub.publish(REPO, (await tinyRepoFiles()).files, { gated: true });
});
afterAll(async () => fixture.dispose());

describe('unipic convert hf:', () => {
  const env = () => ({
    HF_ENDPOINT: fixture.endpoint,
    HF_TOKEN: fixture.hub.token,
    HF_HOME: join(fixture.work, 'hf-home'),
    UNIPIC_CACHE_DIR: join(fixture.work, 'unipic-cache'),
  });

  it('downloads and converts with one command; names the commit; the token is sent but never printed', async () => {
    const out = join(fixture.work, 'model');
    const run = await runCli(['convert', `hf:${REPO}`, out, '--resolutions', '64'], env());
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`hf:${REPO}@main is commit ${commit}`);
    expect(run.stdout).toMatch(/^graph\s+dtype\s+size$/m);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')));
    expect(manifest.source).toContain(`hf:${REPO}@${commit}`);
    // HF_HOME/hub is the cache root, as for Python.
    expect(await readFile(join(fixture.work, 'hf-home', 'hub', `models--${REPO.replace('/', '--')}`, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(fixture.hub.requests.every((request) => request.authorization === `Bearer ${fixture.hub.token}`)).toBe(true);
    expect(`${run.stdout}${run.stderr}`).not.toContain(fixture.hub.token);
  });

  it('fails with one typed line: gated with a wrong token, offline with nothing cached', async () => {
    const wrong = `hf_${'w'.repeat(30)}`;
    // A fresh cache: the gated files must be fetched (the listing itself is public, as on the Hub).
    const refused = await runCli(['convert', `hf:${REPO}`, join(fixture.work, 'x')], {
      ...env(),
      HF_HOME: join(fixture.work, 'fresh-home'),
      HF_TOKEN: wrong,
      UNIPIC_DEBUG: '1',
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unipic convert: hf:Skywork\/Skywork-UniPic-1\.5B is gated.*\[HUB_ACCESS_DENIED\]/);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(wrong);

    const offline = await runCli(['convert', `hf:${REPO}@v2`, join(fixture.work, 'y')], { ...env(), HF_HUB_OFFLINE: '1' });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/Offline .*refs\/v2.*\[MODEL_NOT_FOUND\]/);
    expect(`${offline.stdout}${offline.stderr}`).not.toContain(fixture.hub.token);
  });
});
