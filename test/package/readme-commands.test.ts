import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The README's first code block, each line without its `# comment`. */
function readmeCommands(): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe("the README's two commands", () => {
  it('are exactly what CI runs (.ci/run), nothing installed beside them', () => {
    const commands = readmeCommands();
    expect(commands).toEqual(['ONNXRUNTIME_NODE_INSTALL=skip npm ci && npm run demo', 'npm test']);
    const ciLines = read('.ci/run')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('set ') && !line.startsWith('cd '));
    expect(ciLines).toEqual(commands);
  });

  it("the README's top block states what npm test needs", () => {
    const top = read('README.md').split('\n---\n')[0] ?? '';
    expect(top).toContain('`npm test` also needs **Chromium and libvulkan1**');
    expect(top).toContain('sudo apt-get install chromium libvulkan1');
  });

  it('npm test checks its prerequisites first and packing builds (prepack)', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(scripts.pretest?.startsWith('node tools/test-prerequisites.mjs && ')).toBe(true);
    // The build the tarball's dist/ comes from: `npm run build`'s tsup, silent so that
    // `npm pack --json` stays JSON.
    expect(scripts.prepack).toBe(`${scripts.build} --silent`);
  });

  it('without Chromium and no way to install it: one line saying what to install, exit 1', async () => {
    // UNIPIC_CHROMIUM pointing nowhere: the script never installs for a custom path.
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['tools/test-prerequisites.mjs'],
        { cwd: ROOT, env: { ...process.env, UNIPIC_CHROMIUM: '/nonexistent/chromium' } },
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'npm test needs Chromium for its browser tests: install it (Debian/Ubuntu: sudo apt-get install chromium libvulkan1) or set UNIPIC_CHROMIUM to a Chromium binary, then run npm test again',
    ]);
  });
});
