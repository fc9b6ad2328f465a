import { backoffDelay, isDatabaseUnavailable } from '@hive/database';

/** First pause after a write failed for want of the database; doubling up to the maximum. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2_000;

export const outagePause = (attempt: number): number => backoffDelay(FIRST_PAUSE_MS, attempt, MAX_PAUSE_MS);

/**
 * Runs a write of a running task's end, and again after a pause while the database is unreachable and the lease
 * still holds (`retryUntil`, local clock, and never past the shutdown drain): the outcome of minutes of LLM work
 * survives a database restart. Any other error, or the lease running out, is thrown: the task then stays in_progress
 * until the reaper requeues it.
 */
export async function writeWhileHeld<T>(write: () => Promise<T>, retryUntil: () => number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const pause = outagePause(attempt);
      if (!isDatabaseUnavailable(error) || Date.now() + pause >= retryUntil()) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
