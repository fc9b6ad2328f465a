import { Injectable } from '@nestjs/common';
import { Sql } from '../sql/sql.js';
import { statement } from '../sql/statement.js';

/**
 * The webhook outbox (docs/architecture.md, "Webhooks"). A delivery is queued by the statement that ends its task
 * (task-events.sql.ts); a replica takes due deliveries under a lease by pushing their next attempt past it, so a
 * replica that dies mid-delivery leaves it due again once the lease is over. Writes of an attempt's outcome land
 * only while the writer still holds the lease.
 */
/**
 * A delivery's receiver, `host[:port]` as written in its URL, lower-cased: one regular expression, the same in SQL and
 * in TypeScript, so both sides name a receiver alike.
 */
const RECEIVER_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)';
const RECEIVER = `coalesce(lower(substring(url, '${RECEIVER_PATTERN}')), '')`;
const RECEIVER_REGEXP = new RegExp(RECEIVER_PATTERN);

/** The receiver of a webhook URL, as `take` counts it. */
export const receiverOf = (url: string): string => RECEIVER_REGEXP.exec(url)?.[1]?.toLowerCase() ?? '';

const WEBHOOK_SQL = {
  /**
   * Takes up to $3 due deliveries for $2 ms, at most $6 per receiver counting the $5 deliveries this replica already
   * has in flight to each receiver in $4: one receiver that hangs cannot take every slot while others wait. The
   * candidates are the due deliveries of receivers below their cap, oldest first. $1 replica id.
   */
  take: statement(
    'webhook.take',
    `WITH busy AS (
       SELECT * FROM unnest($4::text[], $5::int[]) AS b(receiver, in_flight)
     ), due AS (
       SELECT w.task_id, w.next_attempt_at, ${RECEIVER} AS receiver FROM webhook_deliveries w
        WHERE w.status = 'pending' AND w.next_attempt_at <= now()
          AND ${RECEIVER} <> ALL (SELECT receiver FROM busy WHERE in_flight >= $6)
        ORDER BY w.next_attempt_at LIMIT $3 * 4
        FOR UPDATE SKIP LOCKED
     ), chosen AS (
       SELECT d.task_id FROM (
         SELECT due.*, row_number() OVER (PARTITION BY due.receiver ORDER BY due.next_attempt_at) AS nth FROM due
       ) d LEFT JOIN busy b ON b.receiver = d.receiver
        WHERE d.nth + coalesce(b.in_flight, 0) <= $6
        ORDER BY d.next_attempt_at LIMIT $3
     )
     UPDATE webhook_deliveries w
        SET attempts = w.attempts + 1, lease_owner = $1, next_attempt_at = now() + $2 * interval '1 millisecond'
       FROM chosen
      WHERE w.task_id = chosen.task_id
     RETURNING w.task_id, w.id, w.url, w.attempts, w.created_at`,
  ),
  /** pending → delivered. $1 task id, $2 replica id, $3 HTTP status. */
  delivered: statement(
    'webhook.delivered',
    `UPDATE webhook_deliveries
        SET status = 'delivered', last_status = $3, last_error = NULL, finished_at = now(), lease_owner = NULL
      WHERE task_id = $1 AND lease_owner = $2 AND status = 'pending'
     RETURNING created_at`,
  ),
  /**
   * A failed attempt: due again after $5 ms, or failed when that is later than $6 hours after the task ended.
   * $1 task id, $2 replica id, $3 HTTP status (or null), $4 error.
   */
  attemptFailed: statement(
    'webhook.attemptFailed',
    `UPDATE webhook_deliveries w
        SET last_status = $3, last_error = $4, lease_owner = NULL,
            status = CASE WHEN g.give_up THEN 'failed' ELSE 'pending' END,
            next_attempt_at = CASE WHEN g.give_up THEN w.next_attempt_at ELSE now() + $5 * interval '1 millisecond' END,
            finished_at = CASE WHEN g.give_up THEN now() END
       FROM (SELECT now() + $5 * interval '1 millisecond' > created_at + $6 * interval '1 hour' AS give_up
               FROM webhook_deliveries WHERE task_id = $1) AS g
      WHERE w.task_id = $1 AND w.lease_owner = $2 AND w.status = 'pending'
     RETURNING w.status`,
  ),
  /** Deliveries still to make, and how long the oldest has waited (s). */
  backlog: statement(
    'webhook.backlog',
    `SELECT count(*)::int AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_s
       FROM webhook_deliveries WHERE status = 'pending'`,
  ),
} as const;

/** A delivery a replica took: one attempt to make now. */
export interface DueWebhook {
  task_id: string;
  /** The message id (webhook-id), the same on every attempt. */
  id: string;
  url: string;
  /** Counting this one. */
  attempts: number;
  /** When the task ended and the delivery was queued. */
  created_at: Date;
}

export interface WebhookBacklog {
  pending: number;
  /** Seconds the oldest pending delivery has waited; 0 when none. */
  oldest_s: number;
}

@Injectable()
export class WebhookStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Up to `limit` due deliveries, each leased to this replica for `leaseMs`; at most `perReceiver` to one receiver,
   * counting those `inFlight` (receiverOf → deliveries this replica is making now).
   */
  take(
    replicaId: string,
    leaseMs: number,
    limit: number,
    perReceiver = limit,
    inFlight: ReadonlyMap<string, number> = new Map(),
  ): Promise<DueWebhook[]> {
    return this.sql.rows<DueWebhook>(WEBHOOK_SQL.take, [
      replicaId,
      leaseMs,
      limit,
      [...inFlight.keys()],
      [...inFlight.values()],
      perReceiver,
    ]);
  }

  /** Marks a delivery done; when it was queued (undefined when this replica no longer held it). */
  async delivered(taskId: string, replicaId: string, httpStatus: number): Promise<Date | undefined> {
    const rows = await this.sql.rows<{ created_at: Date }>(WEBHOOK_SQL.delivered, [taskId, replicaId, httpStatus]);
    return rows[0]?.created_at;
  }

  /**
   * Records a failed attempt: due again after `retryInMs`, or failed once that falls past `retryHours` after the task
   * ended. The new status; undefined when this replica no longer held it.
   */
  async attemptFailed(
    taskId: string,
    replicaId: string,
    failure: { httpStatus: number | null; error: string },
    retryInMs: number,
    retryHours: number,
  ): Promise<'pending' | 'failed' | undefined> {
    const rows = await this.sql.rows<{ status: 'pending' | 'failed' }>(WEBHOOK_SQL.attemptFailed, [
      taskId,
      replicaId,
      failure.httpStatus,
      failure.error,
      retryInMs,
      retryHours,
    ]);
    return rows[0]?.status;
  }

  async backlog(): Promise<WebhookBacklog> {
    const rows = await this.sql.rows<WebhookBacklog>(WEBHOOK_SQL.backlog);
    return rows[0] ?? { pending: 0, oldest_s: 0 };
  }
}
