import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base delay, starting with the base itself', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(1_000, attempt))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    expect([1, 2, 3].map((attempt) => backoffDelay(250, attempt))).toEqual([250, 500, 1_000]);
  });

  it('is capped at 30 s however long the outage', () => {
    expect(backoffDelay(1_000, 6)).toBe(30_000);
    expect(backoffDelay(1_000, 100)).toBe(30_000);
    expect(backoffDelay(1_000, 5_000)).toBe(30_000); // 2 ** 4999 is Infinity
    expect(backoffDelay(60_000, 1)).toBe(30_000);
  });

  it('stays 0 with a base of 0', () => {
    expect([1, 2, 10].map((attempt) => backoffDelay(0, attempt))).toEqual([0, 0, 0]);
  });
});
