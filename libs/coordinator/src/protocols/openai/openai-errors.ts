import { AgentCallError } from '../../client/agent-call-error.js';
import { bodyOrNone, retryAfterMs } from '../../client/agent-failure.js';
import type { AnswerHeaders } from '../../client/http-exchange.js';
import { isRecord } from '../wire-json.js';

const MODEL = /\bmodel\b/i;

/** The message and code of an OpenAI error body: `{"error": {message, code}}` (vLLM: the same fields at the top). */
function errorFields(body: string): { message?: string; code?: unknown } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!isRecord(parsed)) return {};
    const error = isRecord(parsed.error) ? parsed.error : parsed;
    if (typeof error.message === 'string') return { message: error.message, code: error.code };
    if (typeof parsed.error === 'string') return { message: parsed.error };
  } catch {
    // not JSON: fall through
  }
  return {};
}

export function openAiErrorText(status: number, body: string): string {
  return `HTTP ${status}: ${errorFields(body).message ?? bodyOrNone(body)}`;
}

/**
 * What an answer with a status other than 2xx means from an OpenAI-compatible server: 429 and 503 ask to come back
 * later (honouring Retry-After; not the agent's fault), other 5xx and 408/409 are retried as server errors, 401/403
 * mean the agent refused its key, a 404 about the model (code model_not_found, or a message naming the model) a
 * missing model, and the rest (400, 422, …) the caller's fault, failed at once with the server's text.
 */
export function openAiFailure(status: number, body: unknown, headers: AnswerHeaders = {}): AgentCallError {
  const text = typeof body === 'string' ? body : '';
  const message = openAiErrorText(status, text);
  const wait = retryAfterMs(headers);
  if (status === 429) return new AgentCallError('rate_limited', message, status, wait);
  if (status === 503) return new AgentCallError('busy', message, status, wait);
  if (status >= 500 || status === 408 || status === 409) return new AgentCallError('server_error', message, status);
  if (status === 401 || status === 403) return new AgentCallError('auth', message, status);
  const { code, message: said = '' } = errorFields(text);
  if (status === 404 && (code === 'model_not_found' || MODEL.test(said))) {
    return new AgentCallError('model_missing', message, status);
  }
  return new AgentCallError('client_error', message, status);
}
