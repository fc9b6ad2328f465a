import { jest } from '@jest/globals';
import { WindowThrottlerStorage } from './window-throttler-storage.js';

const TTL = 1_000;

describe('WindowThrottlerStorage', () => {
  let storage: WindowThrottlerStorage;
  const hit = (key = 'key:a', limit = 4, block = TTL) => storage.increment(key, TTL, limit, block, 'default');
  /** Whether each of `n` hits now is let through. */
  const allowed = async (n: number, key?: string) => {
    const results: boolean[] = [];
    for (let i = 0; i < n; i++) results.push(!(await hit(key)).isBlocked);
    return results;
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    storage = new WindowThrottlerStorage();
  });
  afterEach(() => {
    storage.onModuleDestroy();
    jest.useRealTimers();
  });

  it('lets `limit` hits through per window, then refuses with the time left on the block', async () => {
    await expect(hit()).resolves.toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    await expect(allowed(3)).resolves.toEqual([true, true, true]);
    await expect(hit()).resolves.toEqual({ totalHits: 5, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
  });

  it('keeps one budget per key and per throttler', async () => {
    await expect(allowed(5, 'key:a')).resolves.toEqual([true, true, true, true, false]);
    await expect(allowed(4, 'key:b')).resolves.toEqual([true, true, true, true]);
    await expect(storage.increment('key:a', TTL, 4, TTL, 'other')).resolves.toMatchObject({ isBlocked: false });
  });

  it('slides: half a window later, half of the previous window still counts', async () => {
    await expect(allowed(4)).resolves.toEqual([true, true, true, true]);
    jest.advanceTimersByTime(1.5 * TTL);
    await expect(allowed(3)).resolves.toEqual([true, true, false]);
  });

  it('gives the whole budget back after an idle window, and refused hits never count', async () => {
    await expect(allowed(10)).resolves.toEqual([true, true, true, true, false, false, false, false, false, false]);
    jest.advanceTimersByTime(2 * TTL);
    await expect(allowed(5)).resolves.toEqual([true, true, true, true, false]);
  });

  it('gives the whole budget back once Retry-After has passed, even right after a burst', async () => {
    await expect(allowed(5)).resolves.toEqual([true, true, true, true, false]);
    jest.advanceTimersByTime(TTL);
    await expect(allowed(5)).resolves.toEqual([true, true, true, true, false]);
  });

  it('refuses for the whole block duration, even once the window has passed', async () => {
    const longBlock = () => hit('key:a', 4, 3 * TTL);
    for (let i = 0; i < 4; i++) await longBlock();
    await expect(longBlock()).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 3 });
    jest.advanceTimersByTime(2.5 * TTL);
    await expect(longBlock()).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    jest.advanceTimersByTime(0.5 * TTL);
    await expect(longBlock()).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
  });
});
