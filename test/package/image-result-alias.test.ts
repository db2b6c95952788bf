import { describe, expectTypeOf, it } from 'vitest';
import type { GenerateResult, ImageResult } from '../../src/public-api.js';

describe('public result names', () => {
  it('the deprecated GenerateResult is the same type as ImageResult', () => {
    expectTypeOf<GenerateResult>().toEqualTypeOf<ImageResult>();
    expectTypeOf<ImageResult['seed']>().toEqualTypeOf<number | undefined>();
  });
});
