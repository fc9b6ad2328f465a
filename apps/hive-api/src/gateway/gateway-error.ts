import { HttpException } from '@nestjs/common';
import type { GatewayOutcome } from '@hive/coordinator';
import type { GatewayDialect } from '@hive/database';

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
  /** The task the call became, sent as x-hive-task-id (a call refused before it was stored has none). */
  taskId?: string;
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

/** 404 for a model no enabled agent serves, worded as each dialect's server words it. */
export function modelNotFound(dialect: GatewayDialect, model: string): GatewayError {
  const message =
    dialect === 'openai'
      ? `The model \`${model}\` does not exist or no agent serves it`
      : `model "${model}" not found: no agent serves it`;
  return new GatewayError(404, message, { code: 'model_not_found', param: 'model' });
}

/** 400 naming the field at fault. */
export const badRequest = (message: string, param?: string): GatewayError => new GatewayError(400, message, { param });
