import type { GatewayDialect } from '@hive/database';
import type { GatewayErrorDetails } from './gateway-error.js';

/** OpenAI's error `type` by status. */
function openAiType(status: number): string {
  if (status === 403) return 'permission_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's error `code` when the error names none. */
const OPENAI_CODES: Readonly<Record<number, string>> = { 401: 'invalid_api_key', 429: 'rate_limit_exceeded' };

/**
 * An error in the dialect's own shape, so that each client raises its usual typed error: OpenAI's
 * `{"error": {message, type, param, code}}`, Ollama's `{"error": "…"}`.
 */
export function gatewayErrorBody(
  dialect: GatewayDialect,
  status: number,
  message: string | string[],
  details: GatewayErrorDetails = {},
): object {
  const text = Array.isArray(message) ? message.join('; ') : message;
  if (dialect === 'ollama') return { error: text };
  return {
    error: {
      message: text,
      type: openAiType(status),
      param: details.param ?? null,
      code: details.code ?? OPENAI_CODES[status] ?? null,
    },
  };
}
