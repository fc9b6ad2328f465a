import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DatabaseSettings } from '@hive/config';

const MAX_DELAY_MS = 30_000;

/** The delay before retry `attempt` (1-based): exponential, capped, so a long outage does not spin. */
export function backoffDelay(baseMs: number, attempt: number, maxMs = MAX_DELAY_MS): number {
  return Math.min(baseMs * 2 ** (attempt - 1), maxMs);
}

export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message === '' ? error.name : error.message;
    return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  }
  return String(error);
}

/**
 * Connects the DataSource, retrying with exponential backoff. Every failed attempt is logged with its cause;
 * the last error is rethrown once the retries are spent.
 */
export async function connectWithRetry(
  dataSource: DataSource,
  settings: DatabaseSettings,
  logger: Logger,
): Promise<void> {
  const attempts = settings.connectRetries + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.initialize();
      if (attempt > 1) logger.log(`Connected to PostgreSQL on attempt ${attempt}`);
      return;
    } catch (error) {
      const cause = describeError(error);
      if (attempt >= attempts) {
        logger.error(`PostgreSQL connection attempt ${attempt}/${attempts} failed: ${cause}; giving up`);
        throw error;
      }
      const delay = backoffDelay(settings.connectRetryDelayMs, attempt);
      logger.warn(`PostgreSQL connection attempt ${attempt}/${attempts} failed: ${cause}; retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
