import { AgentCallError } from '../../client/agent-call-error.js';
import { bodyOrNone, retryAfterMs } from '../../client/agent-failure.js';
import type { AnswerHeaders } from '../../client/http-exchange.js';

const BUSY = /server busy/i;
const MODEL_NOT_FOUND = /model .*not found/i;

/** Ollama's error text from `{"error": "..."}`, else the start of the body. */
export function ollamaErrorText(status: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return `HTTP ${status}: ${(parsed as { error: string }).error}`;
    }
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${status}: ${bodyOrNone(body)}`;
}

/**
 * What an Ollama answer with a status other than 2xx means: its 503 "server busy", or a 503 with Retry-After (a
 * proxy's), is busy and a 429 rate limited (both retried, not the agent's fault, the Retry-After honoured), other
 * 5xx a server error, a 404 "model 'x' not found" a missing model (the task goes to an
 * agent that has it), 401/403 a refused key (a proxy in front of Ollama), any other status the caller's fault.
 */
export function ollamaFailure(status: number, body: unknown, headers: AnswerHeaders = {}): AgentCallError {
  const text = ollamaErrorText(status, typeof body === 'string' ? body : '');
  const wait = retryAfterMs(headers);
  if (status === 503 && (BUSY.test(text) || wait !== undefined)) return new AgentCallError('busy', text, status, wait);
  if (status === 429) return new AgentCallError('rate_limited', text, status, wait);
  if (status >= 500) return new AgentCallError('server_error', text, status);
  if (status === 404 && MODEL_NOT_FOUND.test(text)) return new AgentCallError('model_missing', text, status);
  if (status === 401 || status === 403) return new AgentCallError('auth', text, status);
  return new AgentCallError('client_error', text, status);
}
