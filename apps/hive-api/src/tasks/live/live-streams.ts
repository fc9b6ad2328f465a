import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { SseWriter } from './sse-writer.js';

/**
 * The live-event streams open on this replica. A stopping replica ends them (the server could not close while they
 * stay open); their readers reconnect, with Last-Event-ID, to a replica that is serving.
 */
@Injectable()
export class LiveStreams implements BeforeApplicationShutdown {
  private readonly open = new Set<SseWriter>();
  private stopping = false;

  add(stream: SseWriter): void {
    if (this.stopping) {
      stream.end();
      return;
    }
    this.open.add(stream);
    stream.onClose(() => this.open.delete(stream));
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const stream of this.open) stream.end();
  }
}
