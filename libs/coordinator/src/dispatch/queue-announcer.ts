import { Injectable, Logger } from '@nestjs/common';
import { describeError, QueueChannel, type WakeReason } from '@hive/database';
import { outsideRequests } from '../outside-requests.js';

/**
 * Wakes every replica's dispatcher: tasks were queued, or capacity changed (an agent registered, changed or back
 * online; slots freed by a replica that is shutting down and will not refill them). The NOTIFY is kept out of the
 * INSERT's transaction: PostgreSQL serialises the commits of notifying transactions on one lock held through the
 * WAL flush, which would take group commit away from submissions. At most one NOTIFY is in flight; announcements
 * meanwhile share the next. A NOTIFY lost to a crash is covered by the dispatchers' poll.
 */
@Injectable()
export class QueueAnnouncer {
  private readonly logger = new Logger('QueueAnnouncer');
  private readonly due = new Set<WakeReason>();
  private busy = false;
  private sending: Promise<void> = Promise.resolve();
  private readonly detached = outsideRequests();

  constructor(private readonly channel: QueueChannel) {}

  announce(reason: WakeReason): void {
    this.due.add(reason);
    if (this.busy) return;
    this.busy = true;
    this.sending = this.detached(() => this.send());
  }

  /** Resolves once nothing is left to send (before the database closes at shutdown). */
  async settled(): Promise<void> {
    while (this.busy) await this.sending;
  }

  private async send(): Promise<void> {
    try {
      while (this.due.size > 0) {
        const reasons = [...this.due];
        this.due.clear();
        try {
          await this.channel.notifyWake(reasons);
        } catch (error) {
          this.logger.warn(
            { err: describeError(error) },
            `Waking the dispatchers failed (their poll will catch up): ${describeError(error)}`,
          );
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
