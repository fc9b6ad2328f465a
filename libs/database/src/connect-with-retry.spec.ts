import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DatabaseSettings } from '@hive/config';
import { backoffDelay, connectWithRetry, describeError } from './connect-with-retry.js';

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

describe('describeError', () => {
  it('adds the error code when the message lacks it', () => {
    const refused = Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' });
    expect(describeError(refused)).toBe('connect failed (ECONNREFUSED)');
    const named = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(describeError(named)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('lists the causes of an AggregateError (e.g. IPv4 and IPv6 both refused)', () => {
    const both = new AggregateError([
      new Error('connect ECONNREFUSED ::1:5432'),
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
    ]);
    expect(describeError(both)).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('describes an error without a message and a thrown non-error', () => {
    expect(describeError(new TypeError(''))).toBe('TypeError');
    expect(describeError('boom')).toBe('boom');
  });
});

describe('connectWithRetry', () => {
  const settings = { connectRetries: 2, connectRetryDelayMs: 0 } as DatabaseSettings;

  /** A DataSource whose first `failures` connects are refused, and a logger that records what it is told. */
  function fakes(failures: number) {
    let calls = 0;
    const dataSource = {
      initialize: () => {
        calls += 1;
        return calls <= failures
          ? Promise.reject(Object.assign(new Error(`connect ECONNREFUSED (try ${calls})`), { code: 'ECONNREFUSED' }))
          : Promise.resolve();
      },
    } as unknown as DataSource;
    const said = { log: [] as string[], warn: [] as string[], error: [] as string[] };
    const logger = {
      log: (m: string) => said.log.push(m),
      warn: (m: string) => said.warn.push(m),
      error: (m: string) => said.error.push(m),
    } as unknown as Logger;
    return { dataSource, logger, said, calls: () => calls };
  }

  it('connects at once without logging a retry', async () => {
    const { dataSource, logger, said, calls } = fakes(0);
    await connectWithRetry(dataSource, settings, logger);
    expect(calls()).toBe(1);
    expect(said).toEqual({ log: [], warn: [], error: [] });
  });

  it('logs each failed attempt with its cause, then says which attempt connected', async () => {
    const { dataSource, logger, said, calls } = fakes(2);
    await connectWithRetry(dataSource, settings, logger);
    expect(calls()).toBe(3);
    expect(said).toEqual({
      warn: [
        'PostgreSQL connection attempt 1/3 failed: connect ECONNREFUSED (try 1); retrying in 0 ms',
        'PostgreSQL connection attempt 2/3 failed: connect ECONNREFUSED (try 2); retrying in 0 ms',
      ],
      log: ['Connected to PostgreSQL on attempt 3'],
      error: [],
    });
  });

  it('gives up after retries + 1 attempts and rethrows the last error', async () => {
    const { dataSource, logger, said, calls } = fakes(10);
    await expect(connectWithRetry(dataSource, settings, logger)).rejects.toThrow('connect ECONNREFUSED (try 3)');
    expect(calls()).toBe(3);
    expect(said.warn).toHaveLength(2);
    expect(said.error).toEqual(['PostgreSQL connection attempt 3/3 failed: connect ECONNREFUSED (try 3); giving up']);
    expect(said.log).toEqual([]);
  });
});
