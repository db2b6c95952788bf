import { describe, expect, it } from 'vitest';
import { MAX_SEED } from '../../../src/core/options/common.js';
import { validate } from '../../../src/core/options/validate.js';
import { InvalidOptionsError } from '../../../src/errors/index.js';
import { editOptionsSchema } from '../../../src/families/unipic1/options/edit-options.js';
import { generateOptionsSchema } from '../../../src/families/unipic1/options/generate-options.js';
import { understandOptionsSchema } from '../../../src/families/unipic1/options/understand-options.js';

const image = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 as const };
const CALLS = [
  ['generate', generateOptionsSchema, { prompt: 'x' }],
  ['edit', editOptionsSchema, { prompt: 'x', image }],
  ['understand', understandOptionsSchema, { image }],
] as const;

describe('seed bounds', () => {
  it('one bound (0 to 2147483647) and one message for every call, whatever the seed is', () => {
    expect(MAX_SEED).toBe(2147483647);
    for (const [what, schema, base] of CALLS) {
      for (const seed of [1e20, -1, 1.5, MAX_SEED + 1, Number.MAX_SAFE_INTEGER + 2]) {
        let error: unknown;
        try {
          validate(schema, { ...base, seed }, what);
        } catch (caught) {
          error = caught;
        }
        expect(error, `${what} ${seed}`).toBeInstanceOf(InvalidOptionsError);
        expect((error as InvalidOptionsError).details).toEqual({ issues: [{ path: 'seed', message: 'seed must be a whole number from 0 to 2147483647' }] });
      }
      expect(validate(schema, { ...base, seed: MAX_SEED }, what).seed).toBe(MAX_SEED);
      expect(validate(schema, { ...base, seed: 0 }, what).seed).toBe(0);
    }
  });
});
