import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import {
  describeError,
  parseTaskIds,
  parseTokenPayload,
  QueueChannel,
  TASK_CHANNEL,
  TaskStore,
  TOKEN_CHANNEL,
  WEBHOOK_CHANNEL,
  type QueueListener,
  type TaskWithEvents,
  type TokenPiece,
} from '@hive/database';
import { CoordinatorState } from '../coordinator-state.js';
import { outsideRequests } from '../outside-requests.js';
import { WebhookSender } from '../webhooks/webhook-sender.service.js';

/** Someone on this replica following a task: a waiting request, a live-events reader. */
export interface FeedSubscriber {
  /** The task as it is now, after it changed (or after the listener reconnected: it may have changed meanwhile). */
  onTask(task: TaskWithEvents): void;
  /** Pieces of its streamed answer, as its agent produces them. */
  onTokens?(pieces: readonly TokenPiece[]): void;
  /**
   * True while the task's changes tell this subscriber nothing it does not hear otherwise (its attempt runs on this
   * replica): the task is not read for it. It asks for a read with `reread` when that ends.
   */
  hearsOtherwise?(): boolean;
}

/** Tasks per read: one statement, however many changed at once. */
const READ_BATCH = 500;
/** After a failed read, the tasks are read again this much later. */
const READ_RETRY_MS = 1_000;

/**
 * What this replica hears about tasks (docs/architecture.md, "Delivering results"): the notices every change of state
 * sends at its commit (hive_task), the pieces of streamed answers relayed by the replica running them (hive_tokens)
 * and new webhooks (hive_webhook), on a listening connection of its own. Only tasks someone here follows are read,
 * in one statement for all that changed together; nobody polls.
 */
@Injectable()
export class TaskFeed implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TaskFeed');
  private readonly subscribers = new Map<string, Set<FeedSubscriber>>();
  /** Followed tasks that changed and are still to be read. */
  private stale = new Set<string>();
  private reading = false;
  private listener: QueueListener | undefined;
  private readonly detached = outsideRequests();

  constructor(
    private readonly store: TaskStore,
    private readonly channel: QueueChannel,
    private readonly state: CoordinatorState,
    private readonly webhooks: WebhookSender,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.listener = await this.channel.listenTo(
      {
        channels: {
          [TASK_CHANNEL]: (payload) => this.changed(parseTaskIds(payload)),
          [TOKEN_CHANNEL]: (payload) => this.relayed(payload),
          [WEBHOOK_CHANNEL]: () => this.webhooks.wake(),
        },
        // Notices sent while the connection was down are lost: whatever is followed is read afresh.
        onConnected: () => {
          this.changed([...this.subscribers.keys()]);
          this.webhooks.wake();
        },
      },
      'TaskFeed',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }

  /** Follows a task until the returned function is called. */
  subscribe(taskId: string, subscriber: FeedSubscriber): () => void {
    let set = this.subscribers.get(taskId);
    if (set === undefined) this.subscribers.set(taskId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(taskId) === set) this.subscribers.delete(taskId);
    };
  }

  /** Tasks with their history, read now (those that exist). */
  read(ids: readonly string[]): Promise<TaskWithEvents[]> {
    return this.store.withEvents(ids);
  }

  /** Hands pieces of streamed answers to this replica's followers (the token relay's local path). */
  publishTokens(pieces: readonly TokenPiece[]): void {
    const byTask = new Map<string, TokenPiece[]>();
    for (const piece of pieces) {
      if (!this.subscribers.has(piece.taskId)) continue;
      const list = byTask.get(piece.taskId);
      if (list === undefined) byTask.set(piece.taskId, [piece]);
      else list.push(piece);
    }
    for (const [taskId, list] of byTask) {
      for (const subscriber of this.subscribers.get(taskId) ?? []) subscriber.onTokens?.(list);
    }
  }

  private relayed(payload: string): void {
    const relay = parseTokenPayload(payload);
    // This replica's own pieces reached its followers directly.
    if (relay === undefined || relay.replicaId === this.state.replicaId) return;
    this.publishTokens(relay.pieces);
  }

  /** Reads the task for its subscribers now, whatever changed meanwhile. */
  reread(taskId: string): void {
    this.changed([taskId]);
  }

  private changed(ids: readonly string[]): void {
    for (const id of ids) if (this.wantsReading(id)) this.stale.add(id);
    if (this.stale.size > 0 && !this.reading) void this.detached(() => this.readStale());
  }

  private wantsReading(taskId: string): boolean {
    for (const subscriber of this.subscribers.get(taskId) ?? [])
      if (subscriber.hearsOtherwise?.() !== true) return true;
    return false;
  }

  /** One read in flight at a time; tasks that change meanwhile go in the next. */
  private async readStale(): Promise<void> {
    this.reading = true;
    try {
      while (this.stale.size > 0) {
        const ids = [...this.stale].slice(0, READ_BATCH);
        for (const id of ids) this.stale.delete(id);
        try {
          for (const task of await this.store.withEvents(ids)) {
            for (const subscriber of this.subscribers.get(task.id) ?? []) subscriber.onTask(task);
          }
        } catch (error) {
          this.logger.warn(
            { tasks: ids.length, err: describeError(error), retryInMs: READ_RETRY_MS },
            `Reading ${ids.length} changed task(s) failed: ${describeError(error)}; trying again in ${READ_RETRY_MS} ms`,
          );
          setTimeout(() => this.changed(ids), READ_RETRY_MS).unref();
          return;
        }
      }
    } finally {
      this.reading = false;
    }
  }
}
