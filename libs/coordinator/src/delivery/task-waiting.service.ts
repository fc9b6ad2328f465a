import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { hasEnded, type TaskWithEvents } from '@hive/database';
import { TaskFeed } from './task-feed.service.js';

/** `task` is no older than `held` (two reads may arrive out of order): its history is at least as long. */
export const isNoOlder = (task: TaskWithEvents, held: TaskWithEvents | undefined): boolean =>
  held === undefined || task.events.length >= held.events.length;

/**
 * Requests that wait for their tasks to end (`?wait=`): each is woken by the notice of its tasks' last change, from
 * whichever replica made it (TaskFeed), and costs no polling. It registers before it reads, so an end that commits
 * in between is not missed.
 */
@Injectable()
export class TaskWaiting implements BeforeApplicationShutdown {
  /** The waits in progress: each resolves with what it has when called (shutdown). */
  private readonly waits = new Set<() => void>();
  /** The replica is stopping: its feed no longer hears changes, so a wait reads once and answers. */
  private stopping = false;

  constructor(private readonly feed: TaskFeed) {}

  /** Requests waiting on this replica now. */
  get waiting(): number {
    return this.waits.size;
  }

  /**
   * The tasks (those of `ids` that exist, in that order) once all have ended, or as they are after `waitMs`. A task
   * that ended is read once; the others once more when the time is up, however much the notices said meanwhile.
   */
  async untilEnded(ids: readonly string[], waitMs: number): Promise<TaskWithEvents[]> {
    const latest = new Map<string, TaskWithEvents>();
    const open = new Set(ids);
    let wake = (): void => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const seen = (task: TaskWithEvents) => {
      if (!isNoOlder(task, latest.get(task.id))) return;
      latest.set(task.id, task);
      if (hasEnded(task)) open.delete(task.id);
      if (open.size === 0) wake();
    };
    const unsubscribe = ids.map((id) => this.feed.subscribe(id, { onTask: seen }));
    const timer = setTimeout(wake, this.stopping ? 0 : waitMs);
    this.waits.add(wake);
    try {
      const found = await this.feed.read(ids);
      for (const task of found) seen(task);
      // An id that does not exist never ends.
      for (const id of ids) if (!found.some((task) => task.id === id)) open.delete(id);
      if (open.size > 0) await woken;
      if (open.size > 0) for (const task of await this.feed.read([...open])) seen(task);
    } finally {
      clearTimeout(timer);
      this.waits.delete(wake);
      for (const stop of unsubscribe) stop();
    }
    return ids.flatMap((id) => latest.get(id) ?? []);
  }

  /** A stopping replica answers its waiting requests with their tasks as they are, and every later one at once. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const wake of this.waits) wake();
  }
}
