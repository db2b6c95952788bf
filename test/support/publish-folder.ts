import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Publish a folder built at `work` as `target` (test/.artifacts/ caches shared by parallel test
 * workers): one atomic rename, so a reader never sees a partial folder and a worker that finished
 * the same build second keeps the first one's folder (never deletes a folder another worker may
 * already be reading). `marker` is the file every complete folder holds; a `target` without it is
 * left over from an older layout and is moved aside first.
 */
export function publishFolder(work: string, target: string, marker: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(work, target);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      if (existsSync(join(target, marker)) || attempt > 0) {
        rmSync(work, { recursive: true, force: true });
        return;
      }
      const stale = `${target}.stale.${process.pid}.${Date.now()}`;
      try {
        renameSync(target, stale);
      } catch (moving) {
        // Another worker moved it aside first.
        if ((moving as NodeJS.ErrnoException).code !== 'ENOENT') throw moving;
      }
      rmSync(stale, { recursive: true, force: true });
    }
  }
}
