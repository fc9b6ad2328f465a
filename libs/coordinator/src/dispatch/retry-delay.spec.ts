import { jest } from '@jest/globals';
import { retryDelay } from './retry-delay.js';

const FIVE_MINUTES = 5 * 60_000;
const lowest = () => 0;
const highest = () => 1;

describe('retryDelay', () => {
  afterEach(() => jest.restoreAllMocks());

  it('waits half the ceiling when the random source gives 0 and the whole ceiling when it gives 1', () => {
    expect(retryDelay(1_000, 1, lowest)).toBe(500);
    expect(retryDelay(1_000, 1, highest)).toBe(1_000);
    expect(retryDelay(1_000, 1, () => 0.5)).toBe(750);
  });

  it('doubles the ceiling with each attempt', () => {
    const attempts = [1, 2, 3, 4, 5];
    expect(attempts.map((attempt) => retryDelay(1_000, attempt, highest))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    expect(attempts.map((attempt) => retryDelay(1_000, attempt, lowest))).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
  });

  it('is capped at 5 minutes however many attempts', () => {
    expect(retryDelay(1_000, 9, highest)).toBe(256_000);
    expect(retryDelay(1_000, 10, highest)).toBe(FIVE_MINUTES);
    expect(retryDelay(1_000, 10, lowest)).toBe(FIVE_MINUTES / 2);
    expect(retryDelay(1_000, 1_100, highest)).toBe(FIVE_MINUTES); // 2 ** 1099 is Infinity
    expect(retryDelay(10 * 60_000, 1, highest)).toBe(FIVE_MINUTES);
  });

  it('rounds to whole milliseconds', () => {
    expect(retryDelay(999, 1, lowest)).toBe(500);
    expect(retryDelay(3, 1, () => 0.3)).toBe(2);
  });

  it('draws from Math.random unless given a random source', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(1);
    expect(retryDelay(1_000, 2)).toBe(2_000);
    random.mockReturnValue(0);
    expect(retryDelay(1_000, 2)).toBe(1_000);
    expect(random).toHaveBeenCalledTimes(2);
  });
});
