import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The entry points register the built-in model families; tests of inner modules need them too.
    setupFiles: ['test/support/register-families.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: ORT sessions already use threads, so more workers only thrash.
    maxWorkers: 2,
  },
});
