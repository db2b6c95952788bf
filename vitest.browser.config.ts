import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:browser`: only the Chromium tests (they also run under plain `npm test`). The
// base settings are spread rather than merged: mergeConfig would concatenate the include lists.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/browser/**/*.test.ts'] },
});
