import { HttpException } from '@nestjs/common';
import type { GatewayOutcome } from '@hive/coordinator';

export interface GatewayErrorDetails {
  /** OpenAI's `code` (model_not_found, queue_timeout, …). */
  code?: string;
  /** The request field at fault. */
  param?: string;
  /** Sent as Retry-After (seconds). */
  retryAfterS?: number;
  /** How the request counts in hive_gateway_requests_total (else by its status). */
  outcome?: GatewayOutcome;
  /** The model it counts under (a served one). */
  model?: string;
}

/** A gateway request refused or failed, answered in its dialect's error shape by the exception filter. */
export class GatewayError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly details: GatewayErrorDetails = {},
  ) {
    super(message, status);
  }
}

/** 400 naming the field at fault. */
export const badRequest = (message: string, param?: string): GatewayError => new GatewayError(400, message, { param });
