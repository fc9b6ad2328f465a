import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DatabaseSettings } from '@hive/config';
import { backoffDelay } from './support/backoff.js';
import { describeError } from './support/describe-error.js';

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
      if (attempt > 1) logger.log({ attempt }, `Connected to PostgreSQL on attempt ${attempt}`);
      return;
    } catch (error) {
      const cause = describeError(error);
      if (attempt >= attempts) {
        logger.error(
          { attempt, attempts, err: cause },
          `PostgreSQL connection attempt ${attempt}/${attempts} failed: ${cause}; giving up`,
        );
        throw error;
      }
      const delay = backoffDelay(settings.connectRetryDelayMs, attempt);
      logger.warn(
        { attempt, attempts, err: cause, retryInMs: delay },
        `PostgreSQL connection attempt ${attempt}/${attempts} failed: ${cause}; retrying in ${delay} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
