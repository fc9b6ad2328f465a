import { freePort } from '@hive/database';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { LEVEL, level, message, stopHiveProcess } from './support/process-control.js';

const ATTEMPT = /^PostgreSQL connection attempt (\d+)\/(\d+) failed: (.*)$/;

/**
 * DATABASE_URL points at a port nobody listens on: Hive retries with backoff, logs every failed attempt with its
 * cause, then gives up and exits non-zero instead of hanging or serving without a database.
 */
describe('database unreachable at start (real process)', () => {
  let hive: HiveProcess | undefined;

  afterAll(async () => {
    await stopHiveProcess(hive);
  });

  it('logs each failed attempt with ECONNREFUSED, then exits non-zero', async () => {
    const retries = 2;
    const port = await freePort();
    hive = await spawnHive({
      DATABASE_URL: `postgres://hive:s3cret-pw@127.0.0.1:${port}/hive`,
      DB_CONNECT_RETRIES: String(retries),
      DB_CONNECT_RETRY_DELAY_MS: '20',
      DB_CONNECT_TIMEOUT_MS: '2000',
    });

    const exit = await hive.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBeGreaterThan(0);

    const logs = hive.logs();
    const attempts = logs.filter((l) => ATTEMPT.test(message(l)));
    expect(attempts.map((l) => ATTEMPT.exec(message(l))?.slice(1, 3))).toEqual(
      Array.from({ length: retries + 1 }, (_, i) => [String(i + 1), String(retries + 1)]),
    );
    for (const line of attempts) expect(message(line)).toContain('ECONNREFUSED');
    // Every attempt but the last says it will retry (warn); the last one gives up (error).
    expect(attempts.slice(0, -1).map(level)).toEqual(Array<number>(retries).fill(LEVEL.warn));
    expect(attempts.slice(0, -1).every((l) => /; retrying in \d+ ms$/.test(message(l)))).toBe(true);
    expect(level(attempts.at(-1) ?? {})).toBe(LEVEL.error);
    expect(message(attempts.at(-1) ?? {})).toMatch(/; giving up$/);

    const fatal = logs.filter((l) => level(l) === LEVEL.fatal);
    expect(fatal).toHaveLength(1);
    expect(message(fatal[0] ?? {})).toMatch(/^Hive could not start: .*ECONNREFUSED/);
    expect(logs.some((l) => message(l).startsWith('Hive is listening'))).toBe(false);
    // The password in DATABASE_URL never reaches the log, not even in the start-up line that shows the config.
    expect(hive.lines.join('\n')).not.toContain('s3cret-pw');
  });
});
