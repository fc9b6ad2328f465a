import { AbortReason, AgentCallError } from './agent-call-error.js';
import { AnswerTooLargeError } from './http-exchange.js';
import { errorText } from './ollama-answer.js';

const BUSY = /server busy/i;

/** What an agent's answer with a status other than the one expected means: Ollama's 503 "server busy", 5xx, 4xx. */
export function statusFailure(status: number, body: unknown): AgentCallError {
  const text = errorText(status, typeof body === 'string' ? body : '');
  if (status === 503 && BUSY.test(text)) return new AgentCallError('busy', text, status);
  if (status >= 500) return new AgentCallError('server_error', text, status);
  return new AgentCallError('client_error', text, status);
}

/**
 * What a call that got no answer means: Hive's own abort (its AbortReason says why; any other abort is the timeout),
 * an answer too large or unreadable, else a connection failure.
 */
export function transportFailure(error: unknown, signal: AbortSignal): AgentCallError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof AbortReason) {
      const kind = reason.kind === 'lost' ? 'cancelled' : reason.kind;
      return new AgentCallError(kind, reason.message);
    }
    return new AgentCallError('timeout', 'agent did not answer in time');
  }
  if (error instanceof AnswerTooLargeError) return new AgentCallError('malformed', error.message);
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    return new AgentCallError('connection', `${typeof code === 'string' ? code : 'ERROR'}: ${error.message}`);
  }
  return new AgentCallError('connection', String(error));
}
