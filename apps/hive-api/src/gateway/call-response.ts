import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { AnswerChunk, CallStart, GatewayCallEnd, GatewayMetrics } from '@hive/coordinator';
import type { AnswerFormat, AnswerFormatFactory } from './answer-format.js';
import type { GatewayCallSpec } from './gateway-call-spec.js';
import { GatewayError } from './gateway-error.js';

/** What a client waits before trying again after a queue timeout. */
const QUEUE_TIMEOUT_RETRY_AFTER_S = 5;

/** The headers every answer carries: the task, the agent and the time in the queue. */
const hiveHeaders = (start: CallStart): Record<string, string> => ({
  'x-hive-task-id': start.taskId,
  'x-hive-agent': start.agentId,
  'x-hive-queue-ms': String(start.queueMs),
});

/** A stopping replica's answer to a call it cannot finish: the client tries again, reaching another replica. */
export const replicaStopping = (spec: GatewayCallSpec, taskId?: string): GatewayError =>
  new GatewayError(503, 'This Hive replica is shutting down; try again', {
    code: 'replica_stopping',
    retryAfterS: 1,
    outcome: 'replica_stopping',
    model: spec.model,
    taskId,
  });

/**
 * The answer to one gateway request: nothing is written before the answering attempt is known; then the pieces as
 * they come (a streamed call) and the end, or the whole answer. An end that cannot be written as an answer (nothing
 * went out yet) is thrown as a GatewayError, which the exception filter answers in the dialect's shape.
 */
export class CallResponse {
  private format: AnswerFormat | undefined;
  private streaming = false;
  private readonly receivedAt = performance.now();
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly reply: FastifyReply,
    private readonly spec: GatewayCallSpec,
    private readonly makeFormat: AnswerFormatFactory,
    private readonly metrics: GatewayMetrics,
  ) {}

  private get res(): ServerResponse {
    return this.reply.raw;
  }

  /** Aborts when the client goes away before its answer ended. */
  clientGone(): AbortSignal {
    const gone = new AbortController();
    this.res.on('close', () => {
      if (!this.res.writableEnded) gone.abort();
    });
    return gone.signal;
  }

  /** A piece of a streamed answer: the head goes out with the first. */
  piece(chunk: AnswerChunk, start: CallStart): void {
    if (!this.spec.stream || this.res.destroyed) return;
    const text = this.formatFor(start).piece(chunk);
    if (text === '') return;
    if (!this.streaming) {
      this.open(start);
      this.metrics.firstPiece(this.spec.dialect, this.spec.model, (performance.now() - this.receivedAt) / 1000);
    }
    this.res.write(text);
  }

  /** Writes how the call ended, counted in hive_gateway_requests_total; throws what must be answered as an error. */
  end(end: GatewayCallEnd, queueTimeoutMs: number): void {
    switch (end.outcome) {
      case 'completed': {
        this.count('completed');
        const format = this.formatFor(end.start);
        if (this.spec.stream) {
          this.open(end.start);
          this.res.end(format.finish(end.result));
        } else {
          void this.reply.headers(hiveHeaders(end.start)).status(200).send(format.whole(end.result));
        }
        return;
      }
      case 'failed':
        if (this.endStream('failed', end.error)) return;
        throw new GatewayError(502, `The call failed: ${end.error}`, {
          code: 'agent_error',
          outcome: 'failed',
          model: this.spec.model,
          taskId: end.taskId,
        });
      case 'queue_timeout':
        throw new GatewayError(
          503,
          `No agent serving ${this.spec.model} was free within ${queueTimeoutMs} ms (x-hive-queue-timeout-ms); ` +
            'try again later',
          {
            code: 'queue_timeout',
            retryAfterS: QUEUE_TIMEOUT_RETRY_AFTER_S,
            outcome: 'queue_timeout',
            model: this.spec.model,
            taskId: end.taskId,
          },
        );
      case 'client_closed':
        this.count('client_closed');
        if (!this.streaming) this.reply.hijack();
        if (!this.res.writableEnded) this.res.destroy();
        return;
      case 'replica_stopping':
        if (this.endStream('replica_stopping', 'This Hive replica is shutting down; the answer broke off')) return;
        throw replicaStopping(this.spec, end.taskId);
    }
  }

  /** Ends a stream under way with the dialect's error event; false when none is. */
  private endStream(outcome: GatewayCallEnd['outcome'], message: string): boolean {
    // A stream is open only once its format was made (with the head).
    if (!this.streaming || this.format === undefined) return false;
    this.count(outcome);
    this.res.end(this.format.error(message));
    return true;
  }

  private open(start: CallStart): void {
    if (this.streaming) return;
    this.streaming = true;
    this.reply.hijack();
    const platform: Record<string, string | number | string[] | undefined> = this.reply.getHeaders();
    this.res.writeHead(200, {
      ...platform,
      'content-type': this.formatFor(start).streamType,
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      ...hiveHeaders(start),
    });
  }

  private formatFor(start: CallStart): AnswerFormat {
    return (this.format ??= this.makeFormat({ start, model: this.spec.model, created: this.created }));
  }

  private count(outcome: GatewayCallEnd['outcome']): void {
    this.metrics.request(this.spec.dialect, this.spec.endpoint, this.spec.model, outcome);
  }
}
