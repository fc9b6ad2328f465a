import type { Env } from './env.schema.js';

export interface PoolSettings {
  /** Connections kept open while idle (SQLAlchemy's pool_size; pg-pool's `min`). */
  readonly size: number;
  /** Extra connections opened under load and closed once idle (pool_size + max_overflow = pg-pool's `max`). */
  readonly maxOverflow: number;
  /** A connection older than this is closed instead of reused (pg-pool's `maxLifetimeSeconds`; 0 = never). */
  readonly recycleSeconds: number;
  readonly idleTimeoutMs: number;
}

export interface DatabaseSettings {
  /** Undefined means: start the embedded PostgreSQL in `dataDir`. */
  readonly url: string | undefined;
  readonly dataDir: string;
  readonly pool: PoolSettings;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly connectRetries: number;
  readonly connectRetryDelayMs: number;
  readonly runMigrations: boolean;
}

export interface CoordinatorSettings {
  readonly agentTaskTimeoutMs: number;
  readonly agentProbeIntervalMs: number;
  readonly agentMaxFailures: number;
  /** warm-first: tasks prefer agents that hold their model loaded; least-loaded: only load counts. */
  readonly agentPlacement: Env['AGENT_PLACEMENT'];
  /** How far (between when each became due) a task may be overtaken by tasks whose model is loaded on a free agent. */
  readonly taskWarmWaitMs: number;
  readonly taskMaxAttempts: number;
  readonly taskRetryBaseMs: number;
  readonly taskLeaseMs: number;
  readonly queuePollMs: number;
  readonly taskRetentionDays: number;
}

/** How results reach clients besides polling (docs/architecture.md, "Delivering results"). */
export interface DeliverySettings {
  /** The longest a request may wait for its tasks to end (?wait=). */
  readonly waitMaxS: number;
  /** Signs webhooks (Standard Webhooks, `whsec_…`); callbacks are refused without it. */
  readonly webhookSecret: string | undefined;
  /** Where callbacks may point; empty means AGENT_ENDPOINT_ALLOWLIST's rules. */
  readonly webhookAllowlist: readonly string[];
  readonly webhookTimeoutMs: number;
  /** The first retry's delay; it doubles per attempt (with jitter), up to an hour. */
  readonly webhookRetryBaseMs: number;
  /** After this long from the task's end, a delivery not made is given up. */
  readonly webhookRetryHours: number;
  /** How long an Idempotency-Key answers its first request's tasks. */
  readonly idempotencyTtlHours: number;
}

/** The OpenAI- and Ollama-compatible APIs (docs/architecture.md, "The gateway"). */
export interface GatewaySettings {
  /** How long a call may wait in the queue before it is refused (503), unless its x-hive-queue-timeout-ms says. */
  readonly queueTimeoutMs: number;
  /** `metadata`: a call's input and answer are forgotten once it ended; `full`: kept like any task's. */
  readonly retain: 'full' | 'metadata';
}

export interface SecuritySettings {
  /** An admin key that always works (required in production). */
  readonly adminApiKey: string | undefined;
  /** When set, GET /api/metrics needs `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Encrypts agents' API keys at rest (required in production once such a key is stored). */
  readonly secretKey: string | undefined;
  /** Requests per key (or client address) per window, per replica. */
  readonly throttleLimit: number;
  readonly throttleTtlMs: number;
  /** Largest request body accepted, e.g. 1mb (1 kb = 1024 bytes). */
  readonly bodyLimit: string;
  /** Where agents may point; empty means anywhere (http/https only). */
  readonly agentEndpointAllowlist: readonly string[];
}

/**
 * Hive's typed configuration. It is a class so that Nest can inject it by type; the instance is the validated
 * environment, built once by `loadConfig`.
 */
export abstract class HiveConfig {
  abstract readonly nodeEnv: Env['NODE_ENV'];
  abstract readonly port: number;
  abstract readonly host: string;
  abstract readonly logLevel: Env['LOG_LEVEL'];
  abstract readonly replicaId: string;
  abstract readonly database: DatabaseSettings;
  abstract readonly httpTimeoutMs: number;
  abstract readonly shutdownGraceMs: number;
  abstract readonly corsOrigins: readonly string[];
  abstract readonly coordinator: CoordinatorSettings;
  abstract readonly healthCheckTimeoutMs: number;
  abstract readonly security: SecuritySettings;
  abstract readonly delivery: DeliverySettings;
  abstract readonly gateway: GatewaySettings;
}
