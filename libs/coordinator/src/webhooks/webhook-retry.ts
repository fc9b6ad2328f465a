import { backoffDelay } from '@hive/database';

/** However many attempts failed, the next one comes at most an hour later. */
export const MAX_WEBHOOK_RETRY_MS = 60 * 60_000;

/**
 * When to try a webhook again after failed attempt `attempt` (1-based): WEBHOOK_RETRY_BASE_MS doubling per attempt,
 * capped at an hour, and jittered between half and all of that so that the deliveries of a receiver that was down
 * do not all come back at once.
 */
export function webhookRetryDelay(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = backoffDelay(baseMs, attempt, MAX_WEBHOOK_RETRY_MS);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
