const DEFAULT_MAX_DELAY_MS = 30_000;

/** The delay before retry `attempt` (1-based): doubling from `baseMs`, capped, so a long outage does not spin. */
export function backoffDelay(baseMs: number, attempt: number, maxMs = DEFAULT_MAX_DELAY_MS): number {
  return Math.min(baseMs * 2 ** (attempt - 1), maxMs);
}
