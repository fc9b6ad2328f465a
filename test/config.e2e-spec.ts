import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { LEVEL, level, message, stopHiveProcesses } from './support/process-control.js';

/** Production also needs an admin key; with it, a production test is only about DATABASE_URL. */
const ADMIN_KEY = 'an-admin-key-of-at-least-32-characters';

/**
 * A bad environment stops the real process before anything starts: exit code non-zero and ONE fatal JSON line
 * that names every bad variable (DESIGN.md "Defaults"; CONVENTIONS.md 3).
 */
describe('invalid configuration (real process)', () => {
  const started: HiveProcess[] = [];

  afterEach(async () => {
    await stopHiveProcesses(started.splice(0));
  });

  async function runToExit(env: Record<string, string>) {
    const hive = await spawnHive(env);
    started.push(hive);
    const exit = await hive.exited;
    return { exit, hive };
  }

  /** The run's only output line, which must be the fatal one. */
  function fatalLine(hive: HiveProcess): Record<string, unknown> {
    expect(hive.lines).toHaveLength(1);
    const [line] = hive.logs();
    expect(line).toBeDefined();
    expect(level(line ?? {})).toBe(LEVEL.fatal);
    return line ?? {};
  }

  it('PORT=abc: exits non-zero with one fatal line naming PORT and the bad value', async () => {
    const { exit, hive } = await runToExit({ PORT: 'abc' });

    expect(exit.signal).toBeNull();
    expect(exit.code).toBeGreaterThan(0);
    const fatal = fatalLine(hive);
    expect(message(fatal)).toMatch(/^Invalid configuration: PORT .*\(got "abc"\)$/);
    expect(fatal.problems).toEqual([expect.stringMatching(/^PORT /) as unknown]);
  });

  it('NODE_ENV=production without DATABASE_URL: exits non-zero, never falls back to the embedded database', async () => {
    const { exit, hive } = await runToExit({ NODE_ENV: 'production', HIVE_ADMIN_API_KEY: ADMIN_KEY });

    expect(exit.signal).toBeNull();
    expect(exit.code).toBeGreaterThan(0);
    const fatal = fatalLine(hive);
    expect(message(fatal)).toContain('DATABASE_URL is required when NODE_ENV=production');
    expect(fatal.problems).toHaveLength(1);
  });

  it('several bad variables: one fatal line names each of them, and never echoes DATABASE_URL', async () => {
    const secretUrl = 'mysql://hive:s3cret-pw@db.internal/hive';
    const { exit, hive } = await runToExit({
      PORT: 'abc',
      DB_POOL_SIZE: '0',
      LOG_LEVEL: 'loud',
      CORS_ORIGINS: 'ftp://files.example.com',
      DATABASE_URL: secretUrl,
    });

    expect(exit.signal).toBeNull();
    expect(exit.code).toBeGreaterThan(0);
    const fatal = fatalLine(hive);
    const named = ['PORT', 'DB_POOL_SIZE', 'LOG_LEVEL', 'CORS_ORIGINS', 'DATABASE_URL'];
    for (const name of named) expect(message(fatal)).toContain(`${name} `);
    expect(fatal.problems).toHaveLength(named.length);
    expect(hive.lines.join('\n')).not.toContain('s3cret-pw');
    expect(hive.lines.join('\n')).not.toContain(secretUrl);
  });

  it('production without DATABASE_URL is reported together with the other bad variables', async () => {
    const env = { NODE_ENV: 'production', HIVE_ADMIN_API_KEY: ADMIN_KEY, PORT: 'abc', DB_CONNECT_RETRIES: '-1' };
    const { exit, hive } = await runToExit(env);

    expect(exit.code).toBeGreaterThan(0);
    const problems = fatalLine(hive).problems as string[];
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['DATABASE_URL', 'DB_CONNECT_RETRIES', 'PORT']);
  });
});
