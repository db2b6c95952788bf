import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:browser`: only the Chromium tests (they also run under plain `npm test`).
export default mergeConfig(
  base,
  defineConfig({
    test: { include: ['test/browser/**/*.test.ts'] },
  }),
);
