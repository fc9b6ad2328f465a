import { ConfigError, loadConfig } from './load-config.js';

/** The problems of a configuration that must fail, or a failed expectation when it loads. */
function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

/** Production also needs an admin key; with it, a production test is only about what it names. */
const ADMIN_KEY = 'an-admin-key-of-at-least-32-characters';

const namesIn = (problems: readonly string[]): string[] => problems.map((p) => p.split(' ')[0] ?? '').sort();

describe('loadConfig', () => {
  it('gives every setting its documented default', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      nodeEnv: 'development',
      port: 8000,
      host: '0.0.0.0',
      logLevel: 'info',
      replicaId: expect.stringMatching(/^.+-[0-9a-f]{6}$/) as unknown,
      database: {
        url: undefined,
        dataDir: './.hive',
        pool: { size: 10, maxOverflow: 20, recycleSeconds: 3600, idleTimeoutMs: 10_000 },
        connectTimeoutMs: 5_000,
        statementTimeoutMs: 30_000,
        connectRetries: 4,
        connectRetryDelayMs: 1_000,
        runMigrations: true,
      },
      httpTimeoutMs: 5_000,
      shutdownGraceMs: 25_000,
      corsOrigins: [],
      coordinator: {
        agentTaskTimeoutMs: 300_000,
        agentProbeIntervalMs: 15_000,
        agentMaxFailures: 3,
        agentPlacement: 'warm-first',
        taskWarmWaitMs: 30_000,
        taskMaxAttempts: 3,
        taskRetryBaseMs: 1_000,
        taskLeaseMs: 30_000,
        queuePollMs: 5_000,
        taskRetentionDays: 30,
      },
      healthCheckTimeoutMs: 3_000,
      security: {
        adminApiKey: undefined,
        metricsToken: undefined,
        secretKey: undefined,
        throttleLimit: 600,
        throttleTtlMs: 60_000,
        bodyLimit: '1mb',
        agentEndpointAllowlist: [],
      },
      delivery: {
        waitMaxS: 60,
        webhookSecret: undefined,
        webhookAllowlist: [],
        webhookTimeoutMs: 10_000,
        webhookRetryBaseMs: 5_000,
        webhookRetryHours: 24,
        idempotencyTtlHours: 24,
      },
      gateway: { queueTimeoutMs: 120_000, retain: 'full' },
    });
  });

  it('takes a Standard Webhooks secret, and refuses one that is not whsec_ and 24–64 bytes of base64', () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect(loadConfig({ WEBHOOK_SECRET: secret }).delivery.webhookSecret).toBe(secret);
    for (const bad of [
      'plain-text-secret-of-enough-length',
      `whsec_${Buffer.alloc(16).toString('base64')}`,
      'whsec_!!',
    ]) {
      expect(() => loadConfig({ WEBHOOK_SECRET: bad })).toThrow(/WEBHOOK_SECRET must be whsec_/);
      // The secret itself is never echoed back.
      expect(() => loadConfig({ WEBHOOK_SECRET: bad })).not.toThrow(bad);
    }
  });

  it('refuses keeping idempotency keys or webhook retries longer than the tasks they point at', () => {
    expect(() => loadConfig({ TASK_RETENTION_DAYS: '1', IDEMPOTENCY_TTL_HOURS: '48' })).toThrow(
      /IDEMPOTENCY_TTL_HOURS must not exceed TASK_RETENTION_DAYS in hours \(24\)/,
    );
    expect(() => loadConfig({ TASK_RETENTION_DAYS: '1', WEBHOOK_RETRY_HOURS: '25' })).toThrow(/WEBHOOK_RETRY_HOURS/);
    expect(loadConfig({ TASK_RETENTION_DAYS: '1' }).delivery.webhookRetryHours).toBe(24);
  });

  it('makes a replica id per process unless HIVE_REPLICA_ID names one', () => {
    expect(loadConfig({}).replicaId).not.toBe(loadConfig({}).replicaId);
    expect(loadConfig({ HIVE_REPLICA_ID: ' hive-0 ' }).replicaId).toBe('hive-0');
  });

  it('coerces numbers and booleans from their text', () => {
    const config = loadConfig({
      PORT: '3000',
      DB_POOL_SIZE: ' 2 ',
      DB_POOL_MAX_OVERFLOW: '0',
      DB_POOL_RECYCLE_SECONDS: '0',
      DB_RUN_MIGRATIONS: 'false',
    });
    expect(config.port).toBe(3000);
    expect(config.database.pool).toMatchObject({ size: 2, maxOverflow: 0, recycleSeconds: 0 });
    expect(config.database.runMigrations).toBe(false);
    for (const [text, value] of [
      ['true', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ] as const) {
      expect(loadConfig({ DB_RUN_MIGRATIONS: text }).database.runMigrations).toBe(value);
    }
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', HIVE_REPLICA_ID: '' }).database.url).toBeUndefined();
    // `PORT=` in an env file must not become port 0 (a random port) or a pool of 0 extra connections.
    const config = loadConfig({ PORT: '', DB_POOL_MAX_OVERFLOW: '', DB_CONNECT_RETRIES: '' });
    expect(config.port).toBe(8000);
    expect(config.database.pool.maxOverflow).toBe(20);
    expect(config.database.connectRetries).toBe(4);
  });

  it('parses CORS_ORIGINS as a comma-separated list of origins', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example.com, http://localhost:3000 ,,' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(loadConfig({ CORS_ORIGINS: '' }).corsOrigins).toEqual([]);
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://files.example.com']) {
      expect(namesIn(problemsOf({ CORS_ORIGINS: bad }))).toEqual(['CORS_ORIGINS']);
    }
  });

  it('rejects out-of-range and malformed values', () => {
    expect(namesIn(problemsOf({ PORT: '70000' }))).toEqual(['PORT']);
    expect(namesIn(problemsOf({ PORT: '80.5' }))).toEqual(['PORT']);
    expect(namesIn(problemsOf({ DB_POOL_SIZE: '0' }))).toEqual(['DB_POOL_SIZE']);
    expect(namesIn(problemsOf({ NODE_ENV: 'staging' }))).toEqual(['NODE_ENV']);
    expect(namesIn(problemsOf({ DB_RUN_MIGRATIONS: 'maybe' }))).toEqual(['DB_RUN_MIGRATIONS']);
    expect(namesIn(problemsOf({ HOST: '  ' }))).toEqual(['HOST']);
    // Durations past Node's timer limit would fire after 1 ms.
    expect(namesIn(problemsOf({ QUEUE_POLL_MS: '2147483648' }))).toEqual(['QUEUE_POLL_MS']);
    expect(namesIn(problemsOf({ AGENT_TASK_TIMEOUT_MS: '3600001' }))).toEqual(['AGENT_TASK_TIMEOUT_MS']);
  });

  it('lists every bad variable at once, each with why and the value it got', () => {
    const problems = problemsOf({ PORT: 'abc', DB_POOL_SIZE: '0', LOG_LEVEL: 'loud', TASK_LEASE_MS: '10' });
    expect(namesIn(problems)).toEqual(['DB_POOL_SIZE', 'LOG_LEVEL', 'PORT', 'TASK_LEASE_MS']);
    expect(problems.find((p) => p.startsWith('PORT '))).toContain('(got "abc")');
    expect(problems.find((p) => p.startsWith('LOG_LEVEL '))).toContain('(got "loud")');
  });

  it('requires DATABASE_URL in production, also when other variables are bad', () => {
    for (const url of [undefined, '', '  ']) {
      const problems = problemsOf({ NODE_ENV: 'production', DATABASE_URL: url, HIVE_ADMIN_API_KEY: ADMIN_KEY });
      expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL is required when NODE_ENV=production/)]);
    }
    const withBadPort = { NODE_ENV: 'production', PORT: 'abc', HIVE_ADMIN_API_KEY: ADMIN_KEY };
    expect(namesIn(problemsOf(withBadPort))).toEqual(['DATABASE_URL', 'PORT']);
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/hive', HIVE_ADMIN_API_KEY: ADMIN_KEY };
    expect(loadConfig(production).database.url).toBe('postgres://db/hive');
  });

  it('never echoes the value of a secret', () => {
    const problems = problemsOf({ HIVE_ADMIN_API_KEY: 'short-admin-key', METRICS_TOKEN: 'short-token', PORT: 'abc' });
    expect(namesIn(problems)).toEqual(['HIVE_ADMIN_API_KEY', 'METRICS_TOKEN', 'PORT']);
    expect(problems.join('\n')).not.toContain('short-admin-key');
    expect(problems.join('\n')).not.toContain('short-token');
  });

  it('never echoes the value of DATABASE_URL', () => {
    const secretUrl = 'mysql://hive:s3cret-pw@db.internal/hive';
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: secretUrl, PORT: 'abc' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(namesIn(problems)).toEqual(['DATABASE_URL', 'PORT']);
    expect(message).toMatch(/^Invalid configuration: /);
    expect(message).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(message).not.toContain('s3cret-pw');
    expect(message).not.toContain('db.internal');
  });

  it('accepts postgres:// and postgresql:// URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/hive' }).database.url).toBe(
      'postgresql://u:p@db:5432/hive',
    );
    expect(loadConfig({ DATABASE_URL: 'postgres://db/hive' }).database.url).toBe('postgres://db/hive');
  });
});
