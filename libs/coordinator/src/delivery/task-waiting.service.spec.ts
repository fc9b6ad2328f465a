import type { TaskStatus, TaskWithEvents } from '@hive/database';
import type { FeedSubscriber, TaskFeed } from './task-feed.service.js';
import { TaskWaiting } from './task-waiting.service.js';

/** A task with `n` events, the last one `status`. */
function task(id: string, status: TaskStatus, n: number): TaskWithEvents {
  const events = Array.from({ length: n }, (_, i) => ({ seq: i + 1, status, at: '2026-01-01T00:00:00Z' }));
  return { id, status, events } as unknown as TaskWithEvents;
}

/** A feed whose reads answer `reads` in turn, and whose subscribers the test calls itself. */
function fakeFeed(reads: TaskWithEvents[][]) {
  const subscribers = new Map<string, FeedSubscriber>();
  let readsDone = 0;
  const feed = {
    subscribe: (id: string, subscriber: FeedSubscriber) => {
      subscribers.set(id, subscriber);
      return () => subscribers.delete(id);
    },
    read: () => Promise.resolve(reads[readsDone++] ?? []),
  } as unknown as TaskFeed;
  return { feed, subscribers, reads: () => readsDone };
}

describe('TaskWaiting', () => {
  it('answers once the task ends, from the change the feed hands over', async () => {
    const { feed, subscribers } = fakeFeed([[task('a', 'pending', 1)]]);
    const waiting = new TaskWaiting(feed);
    const answer = waiting.untilEnded(['a'], 60_000);
    await Promise.resolve();
    subscribers.get('a')?.onTask(task('a', 'completed', 3));
    await expect(answer).resolves.toEqual([task('a', 'completed', 3)]);
    expect(subscribers.size).toBe(0);
  });

  it('keeps the newer of two reads that arrive out of order', async () => {
    let answerRead: (tasks: TaskWithEvents[]) => void = () => undefined;
    const subscribers = new Map<string, FeedSubscriber>();
    const feed = {
      subscribe: (id: string, subscriber: FeedSubscriber) => {
        subscribers.set(id, subscriber);
        return () => subscribers.delete(id);
      },
      read: () => new Promise<TaskWithEvents[]>((resolve) => (answerRead = resolve)),
    } as unknown as TaskFeed;
    const answer = new TaskWaiting(feed).untilEnded(['a'], 60_000);
    // The feed's read (completed) lands before the wait's own first read (still pending) does.
    subscribers.get('a')?.onTask(task('a', 'completed', 3));
    answerRead([task('a', 'pending', 1)]);
    await expect(answer).resolves.toEqual([task('a', 'completed', 3)]);
  });

  it('answers at once, after one read, once the replica is stopping', async () => {
    const { feed, reads } = fakeFeed([[task('a', 'in_progress', 2)], [task('a', 'in_progress', 2)]]);
    const waiting = new TaskWaiting(feed);
    waiting.beforeApplicationShutdown();
    await expect(waiting.untilEnded(['a'], 3_600_000)).resolves.toEqual([task('a', 'in_progress', 2)]);
    expect(reads()).toBe(2);
  });

  it('answers what exists: an unknown id never ends, and is left out', async () => {
    const { feed } = fakeFeed([[task('a', 'failed', 3)]]);
    await expect(new TaskWaiting(feed).untilEnded(['a', 'ghost'], 60_000)).resolves.toEqual([task('a', 'failed', 3)]);
  });
});
