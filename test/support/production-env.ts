import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ZodType } from 'zod';
import { envSchema } from '@hive/config';
import { ROOT } from './dockerfile.js';
import { envAssignments } from './yaml-access.js';

/** The names of the config schema (zod 4 keeps a refined object's shape). */
const SHAPE = envSchema.shape as Record<string, ZodType>;
export const SCHEMA_NAMES = Object.keys(SHAPE).sort();

/** Variables of .env.production.example that are for Docker Compose (PostgreSQL, Grafana), not for Hive. */
export const COMPOSE_ONLY = ['GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD'];

/** PostgreSQL's stock max_connections and superuser_reserved_connections. */
export const STOCK_MAX_CONNECTIONS = 100;
export const RESERVED_CONNECTIONS = 3;

/**
 * After SIGTERM a replica keeps serving with readiness at 503 for Terminus' grace, at most 5 s (libs/health,
 * shutdown-grace.ts), before its coordinator drains for up to SHUTDOWN_GRACE_MS. Time budgets count both.
 */
export const READINESS_GRACE_MAX_MS = 5_000;

export const PRODUCTION_EXAMPLE = resolve(ROOT, '.env.production.example');

export function readProductionExample(): { text: string; env: Record<string, string>; names: string[] } {
  const text = readFileSync(PRODUCTION_EXAMPLE, 'utf8');
  const assignments = envAssignments(text);
  return { text, env: Object.fromEntries(assignments), names: assignments.map(([name]) => name) };
}

/** One setting parsed by the schema, as Hive would see it. */
export function parseSetting(name: string, value: string | undefined): unknown {
  const type = SHAPE[name];
  if (type === undefined) throw new Error(`${name} is not a variable of the config schema`);
  return type.parse(value);
}

export function schemaDefault(name: string): unknown {
  return parseSetting(name, undefined);
}

/** Realistic secrets in place of placeholders, to check that everything else in a production env is valid. */
export function withTestSecrets(env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    DATABASE_URL: 'postgres://hive:s3cret@db.internal:5432/hive',
    HIVE_ADMIN_API_KEY: 'a'.repeat(64),
    METRICS_TOKEN: 'b'.repeat(48),
    HIVE_SECRET_KEY: 'c'.repeat(64),
    WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  };
}

/**
 * Connections one replica may hold: its pool's maximum plus its two LISTEN connections (the dispatcher's queue
 * listener, and the task feed of waiting requests, live events and webhooks).
 */
export function connectionsPerReplica(env: Record<string, string>): number {
  const size = Number(parseSetting('DB_POOL_SIZE', env.DB_POOL_SIZE));
  const overflow = Number(parseSetting('DB_POOL_MAX_OVERFLOW', env.DB_POOL_MAX_OVERFLOW));
  return size + overflow + 2;
}
