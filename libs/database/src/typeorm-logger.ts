import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerInterface } from 'typeorm';

const shorten = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 300);

/**
 * Sends TypeORM's messages through Nest's logger, so they are JSON lines like the rest. Query parameters are never
 * logged: they may carry task contexts or secrets.
 */
export class TypeOrmNestLogger implements TypeOrmLoggerInterface {
  private readonly logger = new NestLogger('TypeORM');

  logQuery(): void {
    // Successful queries are not logged: at Hive's rate they would drown everything else.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.warn(`Query failed: ${error instanceof Error ? error.message : error} — ${shorten(query)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`Slow query (${time} ms): ${shorten(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
