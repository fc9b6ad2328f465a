import { Injectable } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { DatabaseLifecycle } from '../database.lifecycle.js';
import type { SqlRunner } from '../sql/sql-runner.js';
import { Sql } from '../sql/sql.js';
import { statement } from '../sql/statement.js';
import { QueueListener, type ChannelHandlers, type QueueEvents } from './queue-listener.js';
import {
  CANCEL_CHANNEL,
  cancelSuffix,
  parseCancel,
  parseWake,
  TOKEN_CHANNEL,
  WAKE_CHANNEL,
  wakePayload,
  type WakeReason,
} from './queue-payloads.js';

const NOTIFY_SQL = {
  /** One NOTIFY per payload. $1 channel, $2 payloads. */
  payloads: statement('notify.payloads', `SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload`),
  /** $1 task ids, $2 channel, $3 suffix naming the agent (or empty). */
  cancel: statement('notify.cancel', `SELECT pg_notify($2, id::text || $3) FROM unnest($1::uuid[]) AS id`),
} as const;

/**
 * The queue's LISTEN/NOTIFY channel, both sides: what a replica sends (tasks queued, capacity changed, calls to
 * abort) and the listening connection that hears it (docs/architecture.md, "Wake-ups").
 */
@Injectable()
export class QueueChannel {
  constructor(
    private readonly sql: Sql,
    private readonly lifecycle: DatabaseLifecycle,
    private readonly config: HiveConfig,
  ) {}

  /** One NOTIFY per reason, in one statement outside any transaction (see QueueAnnouncer for why). */
  async notifyWake(reasons: readonly WakeReason[]): Promise<void> {
    if (reasons.length === 0) return;
    await this.sql.rows(NOTIFY_SQL.payloads, [WAKE_CHANNEL, reasons.map((r) => wakePayload(r, this.config.replicaId))]);
  }

  /**
   * Tells every replica to abort the calls of these tasks (only those on `agentId`, when given). Sent on `db`, so
   * that inside a transaction it is delivered at its commit.
   */
  async notifyCancel(taskIds: readonly string[], agentId?: string, db: SqlRunner = this.sql): Promise<void> {
    if (taskIds.length === 0) return;
    await db.rows(NOTIFY_SQL.cancel, [taskIds, CANCEL_CHANNEL, cancelSuffix(agentId)]);
  }

  /** Relays pieces of streamed answers (token-payloads.ts), one NOTIFY per payload, in one statement. */
  async notifyTokens(payloads: readonly string[]): Promise<void> {
    if (payloads.length === 0) return;
    await this.sql.rows(NOTIFY_SQL.payloads, [TOKEN_CHANNEL, payloads]);
  }

  /** The dispatcher's listener: wake-ups and cancels. stop() it when done. */
  listen(events: QueueEvents): Promise<QueueListener> {
    const capacity = () => events.onWake('capacity');
    return this.listenTo(
      {
        channels: {
          [WAKE_CHANNEL]: (payload) => {
            const wake = parseWake(payload);
            // This replica woke its own dispatcher as it stored the tasks: its notice is for the others.
            if (wake.reason !== 'task' || wake.from !== this.config.replicaId) events.onWake(wake.reason);
          },
          [CANCEL_CHANNEL]: (payload) => {
            if (payload !== '') events.onCancel(parseCancel(payload));
            capacity(); // the slot it held is free, whoever ran it
          },
        },
        onConnected: capacity,
      },
      'QueueListener',
    );
  }

  /** Starts listening on `handlers`' channels on a connection of its own (reconnecting with backoff). */
  async listenTo(handlers: ChannelHandlers, name: string): Promise<QueueListener> {
    const listener = new QueueListener(
      {
        connectionString: this.lifecycle.connectionUrl,
        connectionTimeoutMillis: this.config.database.connectTimeoutMs,
      },
      handlers,
      name,
    );
    await listener.start();
    return listener;
  }
}
