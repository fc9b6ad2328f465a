import { AgentCallError, type AgentFailureKind } from './agent-call-error.js';

/** Every kind (the type makes a new kind fail to compile until it is classified here). */
const CLASSIFICATION: Record<AgentFailureKind, { retryable: boolean; agentFault: boolean }> = {
  timeout: { retryable: true, agentFault: true },
  connection: { retryable: true, agentFault: true },
  busy: { retryable: true, agentFault: false },
  server_error: { retryable: true, agentFault: true },
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

  it('is an Error that keeps its kind, message and HTTP status', () => {
    const error = new AgentCallError('server_error', 'HTTP 500: boom', 500);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AgentCallError',
      kind: 'server_error',
      message: 'HTTP 500: boom',
      status: 500,
    });
    expect(new AgentCallError('timeout', 'late').status).toBeUndefined();
  });
});
