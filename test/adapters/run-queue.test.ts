import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/spec/serial-queue.js';

describe('SerialQueue', () => {
  it('runs jobs one at a time, in order, and keeps going after a failure', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    let mostRunning = 0;
    const job =
      (name: string, fail = false) =>
      async () => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([queue.enqueue(job('a')), queue.enqueue(job('b', true)), queue.enqueue(job('c'))]);
    expect(mostRunning).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(queue.size).toBe(0);
  });

  it('idle() waits for everything queued so far', async () => {
    const queue = new SerialQueue();
    let done = false;
    void queue.enqueue(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      done = true;
    });
    expect(queue.size).toBe(1);
    await queue.idle();
    expect(done).toBe(true);
  });
});
