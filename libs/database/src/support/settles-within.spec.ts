import { settlesWithin } from './settles-within.js';

describe('settlesWithin', () => {
  it('is true for work that resolves or rejects in time', async () => {
    await expect(settlesWithin(Promise.resolve('done'), 1_000)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('failed')), 1_000)).resolves.toBe(true);
  });

  it('is false for work that is still pending when the time runs out', async () => {
    await expect(settlesWithin(new Promise(() => undefined), 10)).resolves.toBe(false);
  });
});
