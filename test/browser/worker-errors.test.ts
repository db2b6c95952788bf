import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPage, startModelSite, type ModelSite } from './support/model-site.js';

interface ErrorReport {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly uniPic: boolean;
  readonly className?: string;
}

/** Errors through a real Worker in Chromium come back as the in-page model's errors. */
describe('worker errors in Chromium', () => {
  let site: ModelSite;

  beforeAll(async () => {
    site = await startModelSite();
  });

  afterAll(async () => {
    await site?.close();
  });

  it('rebuilds the same error classes, codes and messages as the page, and reports a dead worker', async () => {
    const page = await site.openPage();
    const { inPage, inWorker, deadWorker } = await callPage<{
      inPage: Record<'missingModel' | 'badImage', ErrorReport>;
      inWorker: Record<'missingModel' | 'badImage', ErrorReport>;
      deadWorker: ErrorReport;
    }>(site, page, 'compareErrors', site.modelUrl);
    expect(inPage.missingModel).toMatchObject({ uniPic: true, className: 'ModelNotFoundError' });
    expect(inPage.badImage).toMatchObject({ uniPic: true, className: 'InvalidInputError' });
    expect(inWorker).toEqual(inPage);
    expect(deadWorker).toMatchObject({ uniPic: true, code: 'WORKER_FAILED' });
    await page.close();
  });
});
