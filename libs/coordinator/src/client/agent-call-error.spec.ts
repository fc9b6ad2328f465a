import { AgentCallError, type AgentFailureKind } from './agent-call-error.js';

/** Every kind (the type makes a new kind fail to compile until it is classified here). */
const CLASSIFICATION: Record<AgentFailureKind, { retryable: boolean; agentFault: boolean }> = {
  timeout: { retryable: true, agentFault: true },
  connection: { retryable: true, agentFault: true },
  busy: { retryable: true, agentFault: false },
  rate_limited: { retryable: true, agentFault: false },
  server_error: { retryable: true, agentFault: true },
  auth: { retryable: true, agentFault: true },
  // This replica's own problem (a key it cannot decrypt): retried, perhaps by another replica; the agent is fine.
  local: { retryable: true, agentFault: false },
  // Not retried as such: the runner sends the task on to another agent that serves the model.
  model_missing: { retryable: false, agentFault: false },
  client_error: { retryable: false, agentFault: false },
  malformed: { retryable: true, agentFault: true },
  cancelled: { retryable: false, agentFault: false },
  shutdown: { retryable: false, agentFault: false },
};

describe('AgentCallError', () => {
  it.each(Object.entries(CLASSIFICATION))('classifies %s as %o', (kind, expected) => {
    const error = new AgentCallError(kind as AgentFailureKind, 'failed');
    expect({ retryable: error.retryable, agentFault: error.agentFault }).toEqual(expected);
  });

  it('is an Error that keeps its kind, message, HTTP status and the wait the agent asked for', () => {
    const error = new AgentCallError('rate_limited', 'HTTP 429: slow down', 429, 30_000);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AgentCallError',
      kind: 'rate_limited',
      message: 'HTTP 429: slow down',
      status: 429,
      retryAfterMs: 30_000,
    });
    expect(new AgentCallError('timeout', 'late')).toMatchObject({ status: undefined, retryAfterMs: undefined });
  });
});
