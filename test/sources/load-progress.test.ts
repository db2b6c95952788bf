import { describe, expect, it } from 'vitest';
import { LoadProgress } from '../../src/core/sources/load-progress.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants } from './support/fixture.js';

const entry = (path: string, size: number) => ({ path, size, sha256: '0'.repeat(64) });

describe('LoadProgress', () => {
  it('holds the high-water mark when a file restarts from byte 0', () => {
    const events: LoadProgressEvent[] = [];
    const progress = new LoadProgress([entry('a', 100)], (event) => events.push(event));
    const file = progress.begin(entry('a', 100));
    file.report('download', 60);
    file.report('download', 10); // restarted
    file.report('download', 70);
    file.complete('download');
    expect(events.map((event) => event.fileLoaded)).toEqual([60, 70, 100]);
    expectProgressInvariants(events, 100);
  });

  it('throttles a large load to about a thousand events and still ends at 100%', () => {
    const events: LoadProgressEvent[] = [];
    const entries = [entry('big', 50_000_000), entry('small', 10), entry('empty', 0)];
    const progress = new LoadProgress(entries, (event) => events.push(event));
    const big = progress.begin(entries[0]);
    for (let loaded = 4_096; loaded < 50_000_000; loaded += 4_096) big.report('download', loaded);
    big.complete('download');
    const small = progress.begin(entries[1]);
    small.complete('cache-read');
    const empty = progress.begin(entries[2]);
    empty.complete('cache-read');
    expect(events.length).toBeLessThan(1_100);
    expect(events.length).toBeGreaterThan(900);
    expectProgressInvariants(events, 50_000_010);
    // Every file, even an empty one, has its completion event.
    expect(events.filter((event) => event.fileLoaded === event.fileTotal).map((event) => event.file)).toEqual(['big', 'small', 'empty']);
  });

  it('a phase change is always reported', () => {
    const events: LoadProgressEvent[] = [];
    const progress = new LoadProgress([entry('a', 1_000_000)], (event) => events.push(event));
    const file = progress.begin(entry('a', 1_000_000));
    file.report('cache-read', 1);
    file.report('download', 2);
    expect(events.map((event) => event.phase)).toEqual(['cache-read', 'download']);
  });
});
