import { AgentCallError } from '../../client/agent-call-error.js';
import { openAiErrorText, openAiFailure } from './openai-errors.js';

/** OpenAI's error body: the fields nested under "error". */
const openAiBody = (message: string, code: string | null = null) =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });

/** vLLM's error body: the same fields at the top. */
const vllmBody = (message: string, code: number) =>
  JSON.stringify({ object: 'error', message, type: 'NotFoundError', param: null, code });

describe('openAiFailure', () => {
  it('calls a 429 rate limited and a 503 busy, with the wait the server asks for', () => {
    const limited = openAiFailure(429, openAiBody('Rate limit reached', 'rate_limit_exceeded'), {
      'retry-after': '20',
    });
    expect(limited).toBeInstanceOf(AgentCallError);
    expect(limited).toMatchObject({
      kind: 'rate_limited',
      status: 429,
      message: 'HTTP 429: Rate limit reached',
      retryAfterMs: 20_000,
    });
    expect(openAiFailure(503, 'Service Unavailable', { 'retry-after-ms': '1500' })).toMatchObject({
      kind: 'busy',
      status: 503,
      message: 'HTTP 503: Service Unavailable',
      retryAfterMs: 1_500,
    });
    expect(openAiFailure(503, '').retryAfterMs).toBeUndefined();
  });

  it('calls other 5xx, a 408 and a 409 server errors, retried', () => {
    for (const status of [500, 502, 504, 408, 409]) {
      expect(openAiFailure(status, '', { 'retry-after': '5' })).toMatchObject({
        kind: 'server_error',
        status,
        retryAfterMs: undefined,
      });
    }
  });

  it('calls a 401 or 403 a refused key', () => {
    expect(openAiFailure(401, openAiBody('Incorrect API key provided', 'invalid_api_key'))).toMatchObject({
      kind: 'auth',
      status: 401,
      message: 'HTTP 401: Incorrect API key provided',
    });
    expect(openAiFailure(403, '').kind).toBe('auth');
  });

  it('calls a 404 with code model_not_found, or a message about the model, a missing model', () => {
    const openAi = openAiBody('The model `gpt-9` does not exist or you do not have access to it.', 'model_not_found');
    expect(openAiFailure(404, openAi)).toMatchObject({
      kind: 'model_missing',
      status: 404,
      message: 'HTTP 404: The model `gpt-9` does not exist or you do not have access to it.',
    });
    expect(openAiFailure(404, vllmBody('The model `llama9` does not exist.', 404)).kind).toBe('model_missing');
    expect(openAiFailure(404, JSON.stringify({ error: { message: 'unknown', code: 'model_not_found' } })).kind).toBe(
      'model_missing',
    );
  });

  it('calls a 404 about anything else a client error', () => {
    expect(openAiFailure(404, '404 page not found').kind).toBe('client_error');
    expect(openAiFailure(404, openAiBody('Unknown route: /v1/embeddings')).kind).toBe('client_error');
    expect(openAiFailure(404, openAiBody('No such remodelling')).kind).toBe('client_error');
  });

  it("calls a 400 or 422 the caller's fault, failed with the server's text", () => {
    const tooLong = openAiBody("This model's maximum context length is 8192 tokens.", 'context_length_exceeded');
    expect(openAiFailure(400, tooLong)).toMatchObject({
      kind: 'client_error',
      status: 400,
      message: "HTTP 400: This model's maximum context length is 8192 tokens.",
    });
    expect(openAiFailure(422, vllmBody('Field required: messages', 422))).toMatchObject({
      kind: 'client_error',
      message: 'HTTP 422: Field required: messages',
    });
  });

  it('reads a body that is not text as no body', () => {
    expect(openAiFailure(400, undefined)).toMatchObject({ kind: 'client_error', message: 'HTTP 400: no body' });
  });
});

describe('openAiErrorText', () => {
  it('takes the message of an OpenAI or a vLLM error body', () => {
    expect(openAiErrorText(400, openAiBody('bad temperature'))).toBe('HTTP 400: bad temperature');
    expect(openAiErrorText(404, vllmBody('The model `x` does not exist.', 404))).toBe(
      'HTTP 404: The model `x` does not exist.',
    );
  });

  it('takes the text of a {"error": "..."} body, as llama.cpp and Ollama send it', () => {
    expect(openAiErrorText(500, '{"error":"model crashed"}')).toBe('HTTP 500: model crashed');
  });

  it('quotes any other body, or says there was none', () => {
    expect(openAiErrorText(502, 'Bad Gateway')).toBe('HTTP 502: Bad Gateway');
    expect(openAiErrorText(500, '{"error":{"code":1}}')).toBe('HTTP 500: {"error":{"code":1}}');
    expect(openAiErrorText(500, '[1]')).toBe('HTTP 500: [1]');
    expect(openAiErrorText(500, 'y'.repeat(300))).toBe(`HTTP 500: ${'y'.repeat(300)}`);
    expect(openAiErrorText(503, '')).toBe('HTTP 503: no body');
  });
});
