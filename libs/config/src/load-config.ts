import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { envSchema, type Env } from './env.schema.js';
import type { HiveConfig } from './hive-config.js';

/** Thrown when the environment is invalid; its message names every bad variable and why. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Never echoed back in an error message. */
const SECRET = new Set(['DATABASE_URL', 'HIVE_ADMIN_API_KEY', 'METRICS_TOKEN', 'HIVE_SECRET_KEY', 'WEBHOOK_SECRET']);

function describe(issues: readonly z.core.$ZodIssue[], env: NodeJS.ProcessEnv): string[] {
  return issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const raw = env[name];
    const shown = raw === undefined || SECRET.has(name) ? '' : ` (got "${raw}")`;
    return `${name} ${issue.message}${shown}`;
  });
}

function toConfig(env: Env): HiveConfig {
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    replicaId: env.HIVE_REPLICA_ID ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    database: {
      url: env.DATABASE_URL,
      dataDir: env.HIVE_DATA_DIR,
      pool: {
        size: env.DB_POOL_SIZE,
        maxOverflow: env.DB_POOL_MAX_OVERFLOW,
        recycleSeconds: env.DB_POOL_RECYCLE_SECONDS,
        idleTimeoutMs: env.DB_POOL_IDLE_TIMEOUT_MS,
      },
      connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
      connectRetries: env.DB_CONNECT_RETRIES,
      connectRetryDelayMs: env.DB_CONNECT_RETRY_DELAY_MS,
      runMigrations: env.DB_RUN_MIGRATIONS,
    },
    httpTimeoutMs: env.HTTP_TIMEOUT_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    corsOrigins: env.CORS_ORIGINS,
    coordinator: {
      agentTaskTimeoutMs: env.AGENT_TASK_TIMEOUT_MS,
      agentProbeIntervalMs: env.AGENT_PROBE_INTERVAL_MS,
      agentMaxFailures: env.AGENT_MAX_FAILURES,
      agentPlacement: env.AGENT_PLACEMENT,
      taskWarmWaitMs: env.TASK_WARM_WAIT_MS,
      taskMaxAttempts: env.TASK_MAX_ATTEMPTS,
      taskRetryBaseMs: env.TASK_RETRY_BASE_MS,
      taskLeaseMs: env.TASK_LEASE_MS,
      queuePollMs: env.QUEUE_POLL_MS,
      taskRetentionDays: env.TASK_RETENTION_DAYS,
    },
    healthCheckTimeoutMs: env.HEALTH_CHECK_TIMEOUT_MS,
    security: {
      adminApiKey: env.HIVE_ADMIN_API_KEY,
      metricsToken: env.METRICS_TOKEN,
      secretKey: env.HIVE_SECRET_KEY,
      throttleLimit: env.THROTTLE_LIMIT,
      throttleTtlMs: env.THROTTLE_TTL_MS,
      bodyLimit: env.BODY_LIMIT,
      agentEndpointAllowlist: env.AGENT_ENDPOINT_ALLOWLIST,
    },
    delivery: {
      waitMaxS: env.TASK_WAIT_MAX_S,
      webhookSecret: env.WEBHOOK_SECRET,
      webhookAllowlist: env.WEBHOOK_ALLOWLIST,
      webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
      webhookRetryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      webhookRetryHours: env.WEBHOOK_RETRY_HOURS,
      idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
    },
    gateway: { queueTimeoutMs: env.GATEWAY_QUEUE_TIMEOUT_MS, retain: env.GATEWAY_RETAIN },
  };
}

/** Validates the environment once; throws a ConfigError that lists every problem at the same time. */
export function loadConfig(env: NodeJS.ProcessEnv): HiveConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describe(parsed.error.issues, env));
  return toConfig(parsed.data);
}
