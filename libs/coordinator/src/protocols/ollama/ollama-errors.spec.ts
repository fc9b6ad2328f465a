import { AgentCallError } from '../../client/agent-call-error.js';
import { ollamaErrorText, ollamaFailure } from './ollama-errors.js';

const BUSY_BODY = '{"error":"server busy, please try again.  maximum pending requests exceeded"}';
const MISSING_BODY = '{"error":"model \'llama9\' not found"}';

describe('ollamaFailure', () => {
  it('calls a 503 saying "server busy" busy, keeping the status and Ollama\'s text', () => {
    const error = ollamaFailure(503, BUSY_BODY);
    expect(error).toBeInstanceOf(AgentCallError);
    expect(error).toMatchObject({
      kind: 'busy',
      status: 503,
      message: 'HTTP 503: server busy, please try again.  maximum pending requests exceeded',
    });
    expect(ollamaFailure(503, 'Server Busy').kind).toBe('busy');
  });

  it('calls a 429 rate limited, with the wait its Retry-After asks for', () => {
    expect(ollamaFailure(429, '{"error":"too many requests"}', { 'retry-after': '7' })).toMatchObject({
      kind: 'rate_limited',
      status: 429,
      message: 'HTTP 429: too many requests',
      retryAfterMs: 7_000,
    });
    expect(ollamaFailure(429, '').retryAfterMs).toBeUndefined();
  });

  it('calls any other 5xx a server error, a 503 of a proxy and a "server busy" 500 too', () => {
    expect(ollamaFailure(503, 'Service Unavailable')).toMatchObject({ kind: 'server_error', status: 503 });
    expect(ollamaFailure(500, BUSY_BODY)).toMatchObject({ kind: 'server_error', status: 500 });
    for (const status of [500, 502, 504, 599]) expect(ollamaFailure(status, '').kind).toBe('server_error');
  });

  it('calls a 404 "model \'x\' not found" a missing model', () => {
    expect(ollamaFailure(404, MISSING_BODY)).toMatchObject({
      kind: 'model_missing',
      status: 404,
      message: "HTTP 404: model 'llama9' not found",
    });
    expect(ollamaFailure(404, '{"error":"model \\"llama9:70b\\" not found, try pulling it first"}').kind).toBe(
      'model_missing',
    );
  });

  it('calls a 404 about anything else, and "not found" with another status, a client error', () => {
    expect(ollamaFailure(404, '404 page not found').kind).toBe('client_error');
    expect(ollamaFailure(400, MISSING_BODY).kind).toBe('client_error');
  });

  it('calls a 401 or 403 (a proxy in front of Ollama refusing the key) an auth failure', () => {
    expect(ollamaFailure(401, 'Unauthorized')).toMatchObject({
      kind: 'auth',
      status: 401,
      message: 'HTTP 401: Unauthorized',
    });
    expect(ollamaFailure(403, '').kind).toBe('auth');
  });

  it('calls any other status a client error', () => {
    for (const status of [400, 413, 422, 301, 204]) expect(ollamaFailure(status, '').kind).toBe('client_error');
  });

  it('reads a body that is not text as no body', () => {
    expect(ollamaFailure(500, undefined).message).toBe('HTTP 500: no body');
    expect(ollamaFailure(503, { error: 'server busy' })).toMatchObject({
      kind: 'server_error',
      message: 'HTTP 503: no body',
    });
  });
});

describe('ollamaErrorText', () => {
  it('takes the text of Ollama\'s {"error": "..."} body', () => {
    expect(ollamaErrorText(404, MISSING_BODY)).toBe("HTTP 404: model 'llama9' not found");
  });

  it('quotes any other body', () => {
    expect(ollamaErrorText(502, 'Bad Gateway')).toBe('HTTP 502: Bad Gateway');
    expect(ollamaErrorText(500, '{"message":"oops"}')).toBe('HTTP 500: {"message":"oops"}');
    expect(ollamaErrorText(500, '{"error":{"code":1}}')).toBe('HTTP 500: {"error":{"code":1}}');
    expect(ollamaErrorText(500, 'null')).toBe('HTTP 500: null');
    expect(ollamaErrorText(500, 'y'.repeat(300))).toBe(`HTTP 500: ${'y'.repeat(300)}`);
  });

  it('says "no body" for an empty one', () => {
    expect(ollamaErrorText(503, '')).toBe('HTTP 503: no body');
  });
});
