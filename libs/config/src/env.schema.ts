import { z } from 'zod';

/** An empty number, flag or optional value means "unset" (so its default applies), never 0 or false. */
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Whole numbers from the environment, with bounds that keep a typo from becoming an outage. */
const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankAsUnset, z.coerce.number().int().min(min).max(max).default(fallback));

/** Node runs a timer longer than this after 1 ms: a mistyped huge duration would make every timeout fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Durations in milliseconds that end up in timers. */
const ms = (fallback: number, min: number, max = MAX_TIMER_MS) => int(fallback, min, max);

const bool = (fallback: boolean) =>
  z.preprocess(
    blankAsUnset,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const postgresUrl = optionalString.refine(
  (v) => v === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(v),
  'must be a postgres:// or postgresql:// URL',
);

const origins = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
  )
  .refine((list) => list.every((o) => o === '*' || /^https?:\/\/[^\s/]+$/.test(o)), {
    message: 'must be a comma-separated list of origins such as https://app.example.com, or *',
  });

const secret = (minLength: number) =>
  optionalString.refine((v) => v === undefined || v.length >= minLength, `must be at least ${minLength} characters`);

const byteSize = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^\d+(b|kb|mb)$/, 'must be a size such as 512kb or 1mb')
  .default('1mb');

/** Hosts (exact, or *.domain) and IPv4/IPv6 addresses or CIDR blocks. */
const allowlist = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter((entry) => entry !== ''),
  )
  .refine((list) => list.every((e) => /^(\*\.)?[a-z0-9.-]+$/.test(e) || /^[0-9a-f:.]+(\/\d{1,3})?$/.test(e)), {
    message: 'must be a comma-separated list of host names, *.domain patterns, IP addresses or CIDR blocks',
  });

/** The variables the production rules read: those rules run unless one of these is itself invalid. */
const PRODUCTION_RULE_INPUTS = new Set(['NODE_ENV', 'DATABASE_URL', 'HIVE_ADMIN_API_KEY']);

/**
 * Every setting Hive reads, with its default. The README's configuration table and .env.example list the same
 * names; `npm test` checks that they stay in step.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(8000, 0, 65535),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HIVE_REPLICA_ID: optionalString,
    DATABASE_URL: postgresUrl,
    HIVE_DATA_DIR: z.string().trim().min(1).default('./.hive'),
    DB_POOL_SIZE: int(10, 1, 1000),
    DB_POOL_MAX_OVERFLOW: int(20, 0, 1000),
    DB_POOL_RECYCLE_SECONDS: int(3600, 0),
    DB_POOL_IDLE_TIMEOUT_MS: ms(10_000, 0),
    DB_CONNECT_TIMEOUT_MS: ms(5_000, 100),
    DB_STATEMENT_TIMEOUT_MS: ms(30_000, 0),
    DB_CONNECT_RETRIES: int(4, 0, 100), // 5 attempts: at most ~40 s, inside the 60 s start-up grace
    DB_CONNECT_RETRY_DELAY_MS: ms(1_000, 0),
    DB_RUN_MIGRATIONS: bool(true),
    HTTP_TIMEOUT_MS: ms(5_000, 100),
    SHUTDOWN_GRACE_MS: ms(25_000, 0),
    CORS_ORIGINS: origins,
    AGENT_TASK_TIMEOUT_MS: ms(300_000, 100, 3_600_000), // as a task's own timeout_ms
    AGENT_PROBE_INTERVAL_MS: ms(15_000, 100),
    AGENT_MAX_FAILURES: int(3, 1, 100),
    AGENT_PLACEMENT: z.enum(['warm-first', 'least-loaded']).default('warm-first'),
    TASK_MAX_ATTEMPTS: int(3, 1, 20),
    TASK_RETRY_BASE_MS: ms(1_000, 0),
    TASK_LEASE_MS: ms(30_000, 1_000),
    TASK_WARM_WAIT_MS: ms(30_000, 0),
    QUEUE_POLL_MS: ms(5_000, 50),
    TASK_RETENTION_DAYS: int(30, 1),
    HEALTH_CHECK_TIMEOUT_MS: ms(3_000, 100),
    HIVE_ADMIN_API_KEY: secret(32),
    METRICS_TOKEN: secret(16),
    HIVE_SECRET_KEY: secret(32),
    THROTTLE_LIMIT: int(600, 1),
    THROTTLE_TTL_MS: ms(60_000, 1_000),
    BODY_LIMIT: byteSize,
    AGENT_ENDPOINT_ALLOWLIST: allowlist,
  })
  // Production rules are checked even when other variables are bad, so one message names every problem.
  .superRefine(
    (env, ctx) => {
      if (env.NODE_ENV === 'production' && env.DATABASE_URL === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_URL'],
          message: 'is required when NODE_ENV=production (the embedded database is for local use only)',
        });
      }
      if (env.NODE_ENV === 'production' && env.HIVE_ADMIN_API_KEY === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['HIVE_ADMIN_API_KEY'],
          message: 'is required when NODE_ENV=production (at least 32 random characters)',
        });
      }
    },
    { when: (payload) => !payload.issues.some((issue) => PRODUCTION_RULE_INPUTS.has(String(issue.path?.[0]))) },
  );

export type Env = z.infer<typeof envSchema>;
