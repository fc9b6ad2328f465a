import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { describeError } from '@hive/database';
import { TASK_QUEUED, WAKE_CHANNEL } from './queue-listener.js';

/**
 * Tells every replica's dispatcher that tasks were queued. The NOTIFY is kept out of the INSERT's transaction:
 * PostgreSQL serialises the commits of notifying transactions on one lock held through the WAL flush, which would
 * take group commit away from submissions. At most one NOTIFY is in flight; submissions meanwhile share the next.
 * A NOTIFY lost to a crash is covered by the dispatchers' poll.
 */
@Injectable()
export class QueueAnnouncer {
  private readonly logger = new Logger('QueueAnnouncer');
  private sending = false;
  private again = false;

  constructor(private readonly db: DataSource) {}

  tasksQueued(): void {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    void this.send();
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.db.query(`SELECT pg_notify($1, $2)`, [WAKE_CHANNEL, TASK_QUEUED]);
      } catch (error) {
        this.logger.warn(`Announcing queued tasks failed (the queue poll will find them): ${describeError(error)}`);
      }
    } while (this.again && this.db.isInitialized);
    this.sending = false;
  }
}
