import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HiveConfig } from '@hive/config';
import { GatewayCalls, GatewayMetrics, UnservedTasksError } from '@hive/coordinator';
import type { AnswerFormatFactory } from './answer-format.js';
import { callHeaders } from './call-headers.js';
import { CallResponse, replicaStopping } from './call-response.js';
import type { GatewayCallSpec } from './gateway-call-spec.js';
import { modelNotFound } from './gateway-error.js';

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
    const response = new CallResponse(reply, spec, makeFormat, this.metrics);
    const clientGone = response.clientGone();
    try {
      const end = await this.calls.run(
        { ...spec, priority, queueTimeoutMs },
        { onChunk: (chunk, start) => response.piece(chunk, start) },
        clientGone,
      );
      response.end(end, queueTimeoutMs);
    } catch (error) {
      if (!(error instanceof UnservedTasksError)) throw error;
      throw modelNotFound(spec.dialect, spec.model);
    }
  }
}
