import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { SqlRunner } from '../sql/sql-runner.js';
import { Sql } from '../sql/sql.js';
import { statement } from '../sql/statement.js';
import { insertTasks, SUBMIT_SQL } from './tasks/submit.sql.js';
import type { NewTask, SubmittedTask } from './tasks/task.types.js';

const IDEMPOTENCY_SQL = {
  /**
   * Takes the key for this request: a new key, or one whose time ran out. No row while another request holds it
   * live; a request racing for it waits here until the first commits (or rolls back, and then takes it).
   * $1 owner, $2 key, $3 request hash, $4 task ids, $5 hours to keep it.
   */
  take: statement(
    'idempotency.take',
    `INSERT INTO idempotency_keys AS k (owner, key, request_hash, task_ids, expires_at)
     VALUES ($1, $2, $3, $4::uuid[], now() + $5 * interval '1 hour')
     ON CONFLICT (owner, key) DO UPDATE
        SET request_hash = excluded.request_hash, task_ids = excluded.task_ids, created_at = now(),
            expires_at = excluded.expires_at
      WHERE k.expires_at <= now()
     RETURNING 1 AS taken`,
  ),
  /** The live key another request holds. $1 owner, $2 key. */
  find: statement(
    'idempotency.find',
    `SELECT request_hash, task_ids::text[] AS task_ids FROM idempotency_keys
      WHERE owner = $1 AND key = $2 AND expires_at > now()`,
  ),
  /** Deletes at most $1 keys whose time ran out. */
  sweep: statement(
    'idempotency.sweep',
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING 1`,
  ),
} as const;

/** An Idempotency-Key as a request presents it, scoped to the API key that sent it. */
export interface IdempotencyKey {
  /** The API key's id. */
  owner: string;
  key: string;
  /** A hash of what the request asked (route and body): the same key for another request is refused. */
  requestHash: Buffer;
  ttlHours: number;
}

export type IdempotentSubmission =
  /** The tasks were stored now, and the key holds them. */
  | { outcome: 'created'; tasks: SubmittedTask[] }
  /** An earlier request with this key and the same body stored these tasks. */
  | { outcome: 'replayed'; taskIds: string[] }
  /** An earlier request used this key for something else. */
  | { outcome: 'conflict' }
  /** No registered agent can run one of the tasks: nothing was stored, the key stays free. */
  | { outcome: 'unserved' };

/** Nothing stored: the transaction is rolled back, the key not taken. */
class Unserved extends Error {}

/**
 * Submissions under an Idempotency-Key (docs/architecture.md, "Idempotent submission"): the key and the tasks are
 * written in one transaction, so two requests racing with one key on two replicas store the tasks once.
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly sql: Sql) {}

  /** Stores `tasks` (all or none) under `key`, unless the key already holds a request. */
  async submitOnce(key: IdempotencyKey, tasks: readonly NewTask[]): Promise<IdempotentSubmission> {
    try {
      return await this.sql.transaction((tx) => this.takeAndInsert(tx, key, tasks));
    } catch (error) {
      if (error instanceof Unserved) return { outcome: 'unserved' };
      throw error;
    }
  }

  /** Deletes up to `batch` keys whose time ran out; returns how many. */
  async sweepExpired(batch: number): Promise<number> {
    return (await this.sql.rows(IDEMPOTENCY_SQL.sweep, [batch])).length;
  }

  private async takeAndInsert(
    tx: SqlRunner,
    key: IdempotencyKey,
    tasks: readonly NewTask[],
  ): Promise<IdempotentSubmission> {
    const withIds = tasks.map((task) => ({ ...task, id: randomUUID() }));
    const params = [key.owner, key.key, key.requestHash, withIds.map((t) => t.id), key.ttlHours];
    const taken = await tx.rows(IDEMPOTENCY_SQL.take, params);
    if (taken.length === 0) {
      // Read in a statement of its own: its snapshot sees the request that held the key commit.
      const [held] = await tx.rows<{ request_hash: Buffer; task_ids: string[] }>(IDEMPOTENCY_SQL.find, [
        key.owner,
        key.key,
      ]);
      // It ran out between the two statements: the key is free again.
      if (held === undefined) return this.takeAndInsert(tx, key, tasks);
      return held.request_hash.equals(key.requestHash)
        ? { outcome: 'replayed', taskIds: held.task_ids }
        : { outcome: 'conflict' };
    }
    const stored = await insertTasks(tx, SUBMIT_SQL.batch, withIds);
    if (!stored.every((task) => task !== undefined)) throw new Unserved();
    return { outcome: 'created', tasks: stored };
  }
}
