import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DatabaseSettings } from '@hive/config';
import { connectWithRetry } from './connect-with-retry.js';

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
    // Each call is (fields, message): the message is what a person reads, the fields what a log query finds.
    const logger = {
      log: (_fields: object, m: string) => said.log.push(m),
      warn: (_fields: object, m: string) => said.warn.push(m),
      error: (_fields: object, m: string) => said.error.push(m),
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
