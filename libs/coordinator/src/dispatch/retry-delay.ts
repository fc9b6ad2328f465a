import { backoffDelay } from '@hive/database';

const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** Exponential backoff with jitter for the retry after attempt `attempt` (1-based): between half and all of it. */
export function retryDelay(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = backoffDelay(baseMs, attempt, MAX_RETRY_DELAY_MS);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
