import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { hasEnded, receiverOf, TaskStore, WebhookStore, type DueWebhook } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { postWebhook } from './webhook-post.js';
import { webhookRetryDelay } from './webhook-retry.js';
import { webhookHeaders } from './webhook-signature.js';
import { WebhookMetrics } from './webhook.metrics.js';

/** How an attempt ended, for the sender: the delivery is due again after `retryInMs` when set. */
export interface AttemptEnd {
  retryInMs?: number;
}

/** WEBHOOK_ALLOWLIST, or else AGENT_ENDPOINT_ALLOWLIST, names the hosts callbacks may go to. */
export const callbacksAllowlisted = (config: HiveConfig): boolean =>
  config.delivery.webhookAllowlist.length > 0 || config.security.agentEndpointAllowlist.length > 0;

/**
 * Makes one attempt of a delivery a replica took and records its outcome. The body is
 * `{"type":"task.<status>","timestamp":…,"data":<the task as GET /api/tasks/:id shows it, without "webhook">}`,
 * signed with the delivery's id (`msg_<id>`, the same on every attempt) and this attempt's time.
 */
@Injectable()
export class WebhookAttempt {
  private readonly logger = new Logger('WebhookSender');

  constructor(
    private readonly store: WebhookStore,
    private readonly tasks: TaskStore,
    private readonly config: HiveConfig,
    private readonly state: CoordinatorState,
    private readonly metrics: WebhookMetrics,
  ) {}

  /** Resolves once the outcome is stored. `interrupt` cuts the request (shutdown): it is then due again at once. */
  async make(delivery: DueWebhook, key: Buffer, interrupt: AbortSignal): Promise<AttemptEnd> {
    const task = await this.tasks.get(delivery.task_id);
    if (task === undefined || !hasEnded(task)) {
      // Normally gone with its task (ON DELETE CASCADE); retried, in case the read raced a change.
      const error = task === undefined ? 'the task no longer exists' : `the task is ${task.status}, not ended`;
      return this.failed(delivery, { status: null, error });
    }
    const now = Date.now();
    // `webhook: undefined` leaves the field out of the JSON: the task as GET /api/tasks/:id shows it, without it.
    const body = JSON.stringify({
      type: `task.${task.status}`,
      timestamp: new Date(now).toISOString(),
      data: { ...task, webhook: undefined },
    });
    const headers = webhookHeaders(key, { id: `msg_${delivery.id}`, timestampS: Math.floor(now / 1000), body });
    const timeoutMs = this.config.delivery.webhookTimeoutMs;
    // Without an allowlist naming the receivers, only the public internet: a leaked key cannot aim Hive inside.
    const publicOnly = !callbacksAllowlisted(this.config);
    const outcome = await postWebhook(delivery.url, headers, body, { timeoutMs, signal: interrupt, publicOnly });
    switch (outcome.kind) {
      case 'delivered':
        return this.delivered(delivery, outcome.status);
      case 'failed':
        return this.failed(delivery, outcome);
      case 'interrupted':
        return this.failed(delivery, { status: null, error: 'interrupted: the sending replica shut down' }, 0);
    }
  }

  private async delivered(delivery: DueWebhook, status: number): Promise<AttemptEnd> {
    const fields = { taskId: delivery.task_id, host: receiverOf(delivery.url), status, attempt: delivery.attempts };
    const queuedAt = await this.store.delivered(delivery.task_id, this.state.replicaId, status);
    if (queuedAt === undefined) {
      this.logger.warn(fields, `Webhook of task ${delivery.task_id} delivered after its lease ended`);
    } else {
      this.metrics.attempted('delivered', queuedAt);
      this.logger.log(fields, `Webhook of task ${delivery.task_id} delivered`);
    }
    return {};
  }

  /** A failed attempt: due again after the retry delay (`retryInMs` when given), or given up. */
  private async failed(
    delivery: DueWebhook,
    { status, error }: { status: number | null; error: string },
    retryInMs = webhookRetryDelay(this.config.delivery.webhookRetryBaseMs, delivery.attempts),
  ): Promise<AttemptEnd> {
    const { webhookRetryHours } = this.config.delivery;
    const id = delivery.task_id;
    const failure = { httpStatus: status, error };
    const now = await this.store.attemptFailed(id, this.state.replicaId, failure, retryInMs, webhookRetryHours);
    const fields = { taskId: id, host: receiverOf(delivery.url), status, attempt: delivery.attempts, error };
    switch (now) {
      case undefined:
        this.logger.warn(fields, `Webhook of task ${id} failed (${error}) after its lease ended`);
        return {};
      case 'pending':
        this.metrics.attempted('retried');
        this.logger.warn(
          { ...fields, retryInMs },
          `Webhook of task ${id} failed (${error}); retrying in ${retryInMs} ms`,
        );
        return { retryInMs };
      case 'failed':
        this.metrics.attempted('failed');
        this.logger.error(
          fields,
          `Webhook of task ${id} failed (${error}); given up after ${delivery.attempts} attempt(s) ` +
            `(WEBHOOK_RETRY_HOURS=${webhookRetryHours})`,
        );
        return {};
    }
  }
}
