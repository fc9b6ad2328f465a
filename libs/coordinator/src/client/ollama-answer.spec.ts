import { AgentCallError } from './agent-call-error.js';
import { errorText, parseGenerateAnswer } from './ollama-answer.js';

/** The error a body that must be refused is refused with, or a failed expectation when it parses. */
function refusal(body: string): AgentCallError {
  try {
    parseGenerateAnswer(body);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentCallError);
    return error as AgentCallError;
  }
  throw new Error(`expected ${body} to be refused`);
}

describe('parseGenerateAnswer', () => {
  it('keeps the answer, its model, why it stopped and its counts from a finished Ollama answer', () => {
    const body = JSON.stringify({
      model: 'llama3.2:1b',
      created_at: '2025-01-01T00:00:00Z',
      response: 'Bees make honey.',
      done: true,
      done_reason: 'stop',
      context: [1, 2, 3],
      total_duration: 5_043_500_667,
      load_duration: 5_025_959,
      prompt_eval_count: 26,
      prompt_eval_duration: 325_953_000,
      eval_count: 290,
      eval_duration: 4_709_213_000,
    });
    expect(parseGenerateAnswer(body)).toEqual({
      response: 'Bees make honey.',
      model: 'llama3.2:1b',
      done_reason: 'stop',
      prompt_eval_count: 26,
      eval_count: 290,
      total_duration: 5_043_500_667,
      eval_duration: 4_709_213_000,
    });
  });

  it('gives an empty model and nulls for fields that are missing or of the wrong type', () => {
    expect(parseGenerateAnswer('{"response":"","done":true}')).toEqual({
      response: '',
      model: '',
      done_reason: null,
      prompt_eval_count: null,
      eval_count: null,
      total_duration: null,
      eval_duration: null,
    });
    const odd = { response: 'x', done: true, model: 7, done_reason: 1, eval_count: '12', total_duration: null };
    expect(parseGenerateAnswer(JSON.stringify(odd))).toMatchObject({
      model: '',
      done_reason: null,
      eval_count: null,
      total_duration: null,
    });
  });

  it('refuses a body that is not JSON as malformed, quoting its first 200 characters', () => {
    const body = `<html>${'x'.repeat(500)}`;
    const error = refusal(body);
    expect(error.kind).toBe('malformed');
    expect(error.message).toBe(`agent answered with invalid JSON: ${body.slice(0, 200)}`);
    expect(refusal('').kind).toBe('malformed');
  });

  it('refuses JSON that is not an object as malformed', () => {
    for (const body of ['null', '42', '"Bees make honey."', 'true']) {
      expect(refusal(body)).toMatchObject({ kind: 'malformed', message: 'agent answer is not an object' });
    }
  });

  it('refuses an answer without a string "response" or without "done": true as malformed', () => {
    for (const body of [
      '{"response":"Bees","done":false}', // a streaming chunk
      '{"response":"Bees"}',
      '{"done":true}',
      '{"response":42,"done":true}',
      '{"response":"Bees","done":"true"}',
      '[]',
    ]) {
      expect(refusal(body)).toMatchObject({
        kind: 'malformed',
        message: 'agent answer lacks "response" or "done": true',
      });
    }
  });
});

describe('errorText', () => {
  it('takes the text of Ollama\'s {"error": "..."} body', () => {
    expect(errorText(404, '{"error":"model \'llama9\' not found"}')).toBe("HTTP 404: model 'llama9' not found");
  });

  it('quotes the start of any other body', () => {
    expect(errorText(502, 'Bad Gateway')).toBe('HTTP 502: Bad Gateway');
    expect(errorText(500, '{"message":"oops"}')).toBe('HTTP 500: {"message":"oops"}');
    expect(errorText(500, '{"error":{"code":1}}')).toBe('HTTP 500: {"error":{"code":1}}');
    expect(errorText(500, 'null')).toBe('HTTP 500: null');
    expect(errorText(500, 'y'.repeat(300))).toBe(`HTTP 500: ${'y'.repeat(200)}`);
  });

  it('says "no body" for an empty one', () => {
    expect(errorText(503, '')).toBe('HTTP 503: no body');
  });
});
