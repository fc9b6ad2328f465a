import { AbortReason, AgentCallError } from './agent-call-error.js';
import { AnswerTooLargeError, type AnswerHeaders } from './http-exchange.js';

/**
 * What a call that got no answer means: Hive's own abort (its AbortReason says why; any other abort is the timeout),
 * an answer too large or unreadable, else a connection failure.
 */
export function transportFailure(error: unknown, signal: AbortSignal): AgentCallError {
  if (error instanceof AgentCallError) return error;
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

/** A header's value; the first, when the answer repeats it. */
const headerValue = (headers: AnswerHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in milliseconds; undefined when absent. */
export function retryAfterMs(headers: AnswerHeaders, now = Date.now()): number | undefined {
  const inMs = headerValue(headers, 'retry-after-ms');
  const ms = Number(inMs);
  if (inMs !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headerValue(headers, 'retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A body for an error message, whole: AgentClient cuts a failure's text once the agent's key is out of it, so that
 * no cut leaves a piece of the key behind.
 */
export const bodyOrNone = (body: string): string => body || 'no body';
