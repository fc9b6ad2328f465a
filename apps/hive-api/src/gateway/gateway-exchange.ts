import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HiveConfig } from '@hive/config';
import {
  GatewayCalls,
  GatewayMetrics,
  UnservedTasksError,
  type AnswerChunk,
  type CallStart,
  type GatewayCallEnd,
  type OperationInput,
} from '@hive/coordinator';
import type { GatewayDialect, TaskOperation } from '@hive/database';
import type { AnswerFormat, AnswerFormatFactory } from './answer-format.js';
import { callHeaders } from './call-headers.js';
import { GatewayError } from './gateway-error.js';

/** What a client waits before trying again after a queue timeout. */
const QUEUE_TIMEOUT_RETRY_AFTER_S = 5;

/** A call as a dialect's endpoint parsed it. */
export interface GatewayCallSpec {
  dialect: GatewayDialect;
  /** The route, as hive_gateway_requests_total labels it. */
  endpoint: string;
  operation: TaskOperation;
  model: string;
  input: OperationInput['input'];
  stream: boolean;
}

/** The headers every answer carries: the task, the agent and the time in the queue. */
const hiveHeaders = (start: CallStart): Record<string, string> => ({
  'x-hive-task-id': start.taskId,
  'x-hive-agent': start.agentId,
  'x-hive-queue-ms': String(start.queueMs),
});

/** A stopping replica's answer to a call it cannot finish: the client tries again, reaching another replica. */
const replicaStopping = (spec: GatewayCallSpec): GatewayError =>
  new GatewayError(503, 'This Hive replica is shutting down; try again', {
    code: 'replica_stopping',
    retryAfterS: 1,
    outcome: 'replica_stopping',
    model: spec.model,
  });

const unknownModel = (dialect: GatewayDialect, model: string): string =>
  dialect === 'openai'
    ? `The model \`${model}\` does not exist or no agent serves it`
    : `model "${model}" not found: no agent serves it`;

/**
 * Answers a gateway request with its call's answer (docs/architecture.md, "The gateway"): whole, or streamed as the
 * agent produces it in the dialect's format. Nothing is written before the answering attempt is known, so a failure
 * before the first piece is retried on another agent unseen; after it, the stream ends with the dialect's error
 * event. A client that disconnects cancels its call.
 */
@Injectable()
export class GatewayExchange {
  constructor(
    private readonly calls: GatewayCalls,
    private readonly metrics: GatewayMetrics,
    private readonly config: HiveConfig,
  ) {}

  async answer(
    req: FastifyRequest,
    reply: FastifyReply,
    spec: GatewayCallSpec,
    makeFormat: AnswerFormatFactory,
  ): Promise<void> {
    const { priority, queueTimeoutMs } = callHeaders(req.headers, this.config.gateway.queueTimeoutMs);
    if (this.calls.stopping) throw replicaStopping(spec);
    const received = performance.now();
    const created = Math.floor(Date.now() / 1000);
    const res = reply.raw;
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) clientGone.abort();
    });
    let format: AnswerFormat | undefined;
    const formatFor = (start: CallStart) => (format ??= makeFormat({ start, model: spec.model, created }));
    let streaming = false;
    const open = (start: CallStart): void => {
      if (streaming) return;
      streaming = true;
      reply.hijack();
      const platform: Record<string, string | number | string[] | undefined> = reply.getHeaders();
      res.writeHead(200, {
        ...platform,
        'content-type': formatFor(start).streamType,
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        ...hiveHeaders(start),
      });
    };
    const onChunk = (chunk: AnswerChunk, start: CallStart): void => {
      if (!spec.stream || res.destroyed) return;
      const text = formatFor(start).piece(chunk);
      if (text === '') return;
      if (!streaming) {
        open(start);
        this.metrics.firstPiece(spec.dialect, spec.model, (performance.now() - received) / 1000);
      }
      res.write(text);
    };

    let end: GatewayCallEnd;
    try {
      end = await this.calls.run({ ...spec, priority, queueTimeoutMs }, { onChunk }, clientGone.signal);
    } catch (error) {
      if (error instanceof UnservedTasksError) {
        throw new GatewayError(404, unknownModel(spec.dialect, spec.model), {
          code: 'model_not_found',
          param: 'model',
        });
      }
      throw error;
    }
    this.finish(reply, res, spec, end, streaming, queueTimeoutMs, open, formatFor);
  }

  private finish(
    reply: FastifyReply,
    res: ServerResponse,
    spec: GatewayCallSpec,
    end: GatewayCallEnd,
    streaming: boolean,
    queueTimeoutMs: number,
    open: (start: CallStart) => void,
    formatFor: (start: CallStart) => AnswerFormat,
  ): void {
    const count = (outcome: GatewayCallEnd['outcome']) =>
      this.metrics.request(spec.dialect, spec.endpoint, spec.model, outcome);
    switch (end.outcome) {
      case 'completed': {
        count('completed');
        const format = formatFor(end.start);
        if (spec.stream) {
          open(end.start);
          res.end(format.finish(end.result));
          return;
        }
        void reply.headers(hiveHeaders(end.start)).status(200).send(format.whole(end.result));
        return;
      }
      case 'failed':
        if (streaming && end.start !== undefined) {
          count('failed');
          res.end(formatFor(end.start).error(end.error));
          return;
        }
        throw new GatewayError(502, `The call failed: ${end.error}`, {
          code: 'agent_error',
          outcome: 'failed',
          model: spec.model,
        });
      case 'queue_timeout':
        throw new GatewayError(
          503,
          `No agent serving ${spec.model} was free within ${queueTimeoutMs} ms (x-hive-queue-timeout-ms); try again later`,
          {
            code: 'queue_timeout',
            retryAfterS: QUEUE_TIMEOUT_RETRY_AFTER_S,
            outcome: 'queue_timeout',
            model: spec.model,
          },
        );
      case 'client_closed':
        count('client_closed');
        if (!res.writableEnded) res.destroy();
        return;
      case 'replica_stopping':
        if (streaming && end.start !== undefined) {
          count('replica_stopping');
          res.end(formatFor(end.start).error('This Hive replica is shutting down; the answer was cut short'));
          return;
        }
        throw replicaStopping(spec);
    }
  }
}
