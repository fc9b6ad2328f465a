import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, receiverOf, settlesWithin, WebhookStore, type DueWebhook } from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { outsideRequests } from '../outside-requests.js';
import { WebhookAttempt } from './webhook-attempt.js';
import { webhookKey } from './webhook-signature.js';

/** Deliveries one replica has in flight at most; a take asks for no more than the free slots. */
const MAX_IN_FLIGHT = 32;
/** ... and to one receiver at most: a receiver that hangs leaves the other slots to the others. */
const MAX_PER_RECEIVER = 8;
/** Added to twice WEBHOOK_TIMEOUT_MS for a delivery's lease: the attempt and the write of its outcome fit in it. */
const LEASE_MARGIN_MS = 5_000;
/** After a failed take, no pass for this long: a broken database must not spin the sender. */
const TAKE_ERROR_PAUSE_MS = 1_000;
/** How long shutdown waits on the database: for the take under way, and for the outcomes of interrupted sends. */
const DATABASE_WAIT_MS = 5_000;

/**
 * Delivers the webhook outbox (docs/architecture.md, "Webhooks"): takes due deliveries under a lease, POSTs each,
 * signed per Standard Webhooks with the same webhook-id on every attempt, and records the outcome: delivered on a
 * 2xx, else tried again after a doubling delay until WEBHOOK_RETRY_HOURS after the task ended. Woken by `wake()`
 * (the hive_webhook notice), by the retries it scheduled and by the QUEUE_POLL_MS poll. A replica that dies with
 * deliveries in flight leaves them due again when their lease ends, so a receiver may get a webhook twice: the
 * webhook-id tells it.
 */
@Injectable()
export class WebhookSender implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookSender');
  /** The signing key; none without WEBHOOK_SECRET, and then nothing is sent. */
  private readonly key: Buffer | undefined;
  private readonly leaseMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sends = new Set<Promise<void>>();
  /** Deliveries in flight by receiver (receiverOf their URL). */
  private readonly perReceiver = new Map<string, number>();
  /** Aborts the sends still in flight when shutdown stops waiting for them. */
  private readonly interrupt = new AbortController();
  private accepting = false;
  private looping = false;
  private wanted = false;
  /** The last take filled every free slot: a send that ends makes room for more. */
  private full = false;
  private pausedUntil = 0;
  private pass: Promise<void> = Promise.resolve();
  private unsignedReported = false;
  /** When shutdown stops waiting for sends in flight: SHUTDOWN_GRACE_MS after it began. */
  private deadline = 0;
  private stopped = false;
  private readonly detached = outsideRequests();

  constructor(
    private readonly store: WebhookStore,
    private readonly attempts: WebhookAttempt,
    private readonly config: HiveConfig,
    private readonly state: CoordinatorState,
  ) {
    const { webhookSecret, webhookTimeoutMs } = config.delivery;
    this.key = webhookSecret === undefined ? undefined : webhookKey(webhookSecret);
    this.leaseMs = 2 * webhookTimeoutMs + LEASE_MARGIN_MS;
  }

  onApplicationBootstrap(): void {
    this.accepting = true;
    if (this.key !== undefined) this.every(this.config.coordinator.queuePollMs);
    this.wake();
  }

  /**
   * Asks for a pass over the due deliveries (a new one was queued, or the notices' connection came back); passes never
   * overlap, and a wake-up during one causes one more.
   */
  wake(): void {
    this.wanted = true;
    if (!this.looping && this.accepting && Date.now() >= this.pausedUntil) {
      void this.detached(() => (this.pass = this.loop()));
    }
  }

  /** Stops taking deliveries at once (the first hook Nest runs on SIGTERM). */
  onModuleDestroy(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.deadline = Date.now() + this.config.shutdownGraceMs;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * The sends in flight may end until SHUTDOWN_GRACE_MS after shutdown began; those still waiting for an answer then
   * are cut, and recorded as due again at once for the other replicas. An outcome the database does not take within
   * 5 s is left to the lease: the delivery is due again when it ends.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onModuleDestroy();
    if (!(await settlesWithin(this.pass, DATABASE_WAIT_MS))) {
      this.logger.warn(`The webhook take under way did not finish within ${DATABASE_WAIT_MS} ms`);
    }
    if (this.sends.size === 0) return;
    const budget = Math.max(0, this.deadline - Date.now());
    this.logger.log({ webhooks: this.sends.size }, `Waiting up to ${budget} ms for ${this.sends.size} webhook(s)`);
    if (await settlesWithin(Promise.all(this.sends), budget)) return;
    this.interrupt.abort();
    if (!(await settlesWithin(Promise.all(this.sends), DATABASE_WAIT_MS))) {
      this.logger.warn(
        { webhooks: this.sends.size },
        `${this.sends.size} webhook attempt(s) could not be recorded; they are due again when their lease ends`,
      );
    }
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      if (this.key === undefined) {
        this.wanted = false;
        return await this.reportUnsigned();
      }
      while (this.wanted && this.accepting) {
        this.wanted = false;
        for (;;) {
          const room = MAX_IN_FLIGHT - this.sends.size;
          this.full = room <= 0;
          if (this.full || !this.accepting) break;
          const due = await this.store.take(
            this.state.replicaId,
            this.leaseMs,
            room,
            MAX_PER_RECEIVER,
            this.perReceiver,
          );
          // Taken is leased and counted: sent even when shutdown began meanwhile, and drained like the others.
          for (const delivery of due) this.send(delivery, this.key);
          if (due.length < room) break;
        }
      }
    } catch (error) {
      this.pausedUntil = Date.now() + TAKE_ERROR_PAUSE_MS;
      this.logger.warn(
        { err: describeError(error), retryInMs: TAKE_ERROR_PAUSE_MS },
        `Reading due webhooks failed: ${describeError(error)}; trying again in ${TAKE_ERROR_PAUSE_MS} ms`,
      );
      this.after(TAKE_ERROR_PAUSE_MS, () => (this.pausedUntil = 0));
    } finally {
      this.looping = false;
    }
  }

  private send(delivery: DueWebhook, key: Buffer): void {
    const receiver = receiverOf(delivery.url);
    this.perReceiver.set(receiver, (this.perReceiver.get(receiver) ?? 0) + 1);
    const sending: Promise<void> = this.attempts
      .make(delivery, key, this.interrupt.signal)
      // A retry coming due wakes the sender: the poll alone would come later.
      .then(({ retryInMs }) => {
        if (retryInMs !== undefined) this.after(retryInMs);
      })
      .catch((error: unknown) =>
        this.logger.error(
          { taskId: delivery.task_id, host: receiverOf(delivery.url), err: describeError(error) },
          `The webhook of task ${delivery.task_id} could not be recorded: ${describeError(error)}; ` +
            'it is due again when its lease ends',
        ),
      )
      .finally(() => {
        this.sends.delete(sending);
        const left = (this.perReceiver.get(receiver) ?? 1) - 1;
        if (left > 0) this.perReceiver.set(receiver, left);
        else this.perReceiver.delete(receiver);
        // A receiver at its cap may have more due: its freed slot is worth a take, as a freed slot of a full sender.
        if (left + 1 >= MAX_PER_RECEIVER) this.wake();
        if (this.full) this.wake();
      });
    this.sends.add(sending);
  }

  /** Without WEBHOOK_SECRET nothing is sent: deliveries queued meanwhile are reported once and left pending. */
  private async reportUnsigned(): Promise<void> {
    if (this.unsignedReported) return;
    const { pending } = await this.store.backlog();
    if (pending === 0) return;
    this.unsignedReported = true;
    this.logger.error(
      { pending },
      `${pending} webhook(s) are pending, but WEBHOOK_SECRET is not set and Hive never sends an unsigned webhook: ` +
        'set it to deliver them',
    );
  }

  /** A wake-up after `ms` (after `before` runs), unless shutdown begins first. */
  private after(ms: number, before?: () => void): void {
    if (!this.accepting) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      before?.();
      this.wake();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private every(ms: number): void {
    const timer = setInterval(() => this.wake(), ms);
    timer.unref();
    this.timers.add(timer);
  }
}
