import { jest } from '@jest/globals';
import { MAX_WEBHOOK_RETRY_MS, webhookRetryDelay } from './webhook-retry.js';

const HOUR = 60 * 60_000;
const lowest = () => 0;
const highest = () => 1;

describe('webhookRetryDelay', () => {
  afterEach(() => jest.restoreAllMocks());

  it('lies between half the ceiling and the whole of it, as the random source says', () => {
    expect(webhookRetryDelay(5_000, 1, lowest)).toBe(2_500);
    expect(webhookRetryDelay(5_000, 1, highest)).toBe(5_000);
    expect(webhookRetryDelay(5_000, 1, () => 0.5)).toBe(3_750);
    for (const r of [0, 0.1, 0.37, 0.5, 0.99, 1]) {
      const delay = webhookRetryDelay(5_000, 3, () => r);
      expect(delay).toBeGreaterThanOrEqual(10_000);
      expect(delay).toBeLessThanOrEqual(20_000);
    }
  });

  it('doubles with each failed attempt', () => {
    const attempts = [1, 2, 3, 4, 5, 6];
    expect(attempts.map((n) => webhookRetryDelay(200, n, highest))).toEqual([200, 400, 800, 1_600, 3_200, 6_400]);
    expect(attempts.map((n) => webhookRetryDelay(200, n, lowest))).toEqual([100, 200, 400, 800, 1_600, 3_200]);
  });

  it('is capped at an hour however many attempts failed', () => {
    expect(MAX_WEBHOOK_RETRY_MS).toBe(HOUR);
    expect(webhookRetryDelay(5_000, 10, highest)).toBe(2_560_000);
    expect(webhookRetryDelay(5_000, 11, highest)).toBe(HOUR);
    expect(webhookRetryDelay(5_000, 11, lowest)).toBe(HOUR / 2);
    expect(webhookRetryDelay(5_000, 5_000, highest)).toBe(HOUR); // 2 ** 4999 is Infinity
    expect(webhookRetryDelay(2 * HOUR, 1, highest)).toBe(HOUR);
  });

  it('rounds to whole milliseconds', () => {
    expect(webhookRetryDelay(15, 1, lowest)).toBe(8);
    expect(webhookRetryDelay(10, 1, () => 0.33)).toBe(7);
  });

  it('draws from Math.random unless given a random source', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(1);
    expect(webhookRetryDelay(1_000, 2)).toBe(2_000);
    random.mockReturnValue(0);
    expect(webhookRetryDelay(1_000, 2)).toBe(1_000);
    expect(random).toHaveBeenCalledTimes(2);
  });
});
