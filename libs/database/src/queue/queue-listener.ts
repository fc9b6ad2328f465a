import { Logger } from '@nestjs/common';
import pg from 'pg';
import { backoffDelay } from '../support/backoff.js';
import { describeError } from '../support/describe-error.js';
import { settlesWithin } from '../support/settles-within.js';
import type { CancelNotice, WakeReason } from './queue-payloads.js';

/** How long stop() waits for the server to acknowledge the end of the connection (it may have stopped answering). */
const END_WAIT_MS = 2_000;

export interface QueueEvents {
  /** Tasks were queued, or capacity changed; also called after (re)connecting, as events may have been missed. */
  onWake(reason: WakeReason): void;
  /** A running task was cancelled or requeued: abort its call (only the one on `agentId`, when given). */
  onCancel(notice: CancelNotice): void;
}

/** What a listener hears: a handler per channel, and a call after each (re)connection (notices may have been missed). */
export interface ChannelHandlers {
  channels: Readonly<Record<string, (payload: string) => void>>;
  onConnected(): void;
}

/**
 * LISTENs on a connection of its own (a pooled one would be recycled under it) and reconnects with backoff when it
 * drops; onConnected() tells its owner to catch up on what it may have missed meanwhile.
 */
export class QueueListener {
  private readonly logger: Logger;
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly handlers: ChannelHandlers,
    name = 'QueueListener',
  ) {
    this.logger = new Logger(name);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ ...this.connection, application_name: 'hive-listener', keepAlive: true });
    client.on('notification', (msg) => this.handlers.channels[msg.channel]?.(msg.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    this.client = client;
    try {
      await client.connect();
      await client.query(
        Object.keys(this.handlers.channels)
          .map((channel) => `LISTEN ${channel}`)
          .join('; '),
      );
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    if (this.failures > 0) this.logger.log('Listening again');
    this.failures = 0;
    this.handlers.onConnected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    if (!(await settlesWithin(client.end(), END_WAIT_MS))) {
      this.logger.warn(`Listener connection not closed within ${END_WAIT_MS} ms; leaving it`);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.failures += 1;
    const delay = backoffDelay(250, this.failures, 10_000);
    this.logger.warn(
      { err: describeError(error), retryInMs: delay },
      `Listener connection lost (${describeError(error)}); reconnecting in ${delay} ms`,
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.start(), delay);
  }
}
