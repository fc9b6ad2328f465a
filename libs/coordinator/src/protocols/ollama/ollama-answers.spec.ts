import { AgentCallError } from '../../client/agent-call-error.js';
import type { AnswerChunk } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { embedResult, OllamaAnswer } from './ollama-answers.js';

const GENERATE: AgentCall = { operation: 'generate', model: 'llama3.2:1b', input: { prompt: 'Why bees?' } };
const CHAT: AgentCall = {
  operation: 'chat',
  model: 'llama3.2:1b',
  input: { messages: [{ role: 'user', content: 'Weather in Paris?' }] },
};
const EMBED: AgentCall & { operation: 'embed' } = {
  operation: 'embed',
  model: 'nomic-embed-text',
  input: { input: ['a', 'b'] },
};

/** The figures Ollama's last object carries. */
const FIGURES = {
  total_duration: 5_043_500_667,
  load_duration: 5_025_959,
  prompt_eval_count: 26,
  prompt_eval_duration: 325_953_000,
  eval_count: 290,
  eval_duration: 4_709_213_000,
};

/** The AgentCallError `run` throws; anything else fails the test. */
function failureOf(run: () => unknown): AgentCallError {
  try {
    run();
  } catch (error) {
    if (error instanceof AgentCallError) return error;
    throw error;
  }
  throw new Error('expected an AgentCallError, got none');
}

/** An answer that records the chunks it hands over. */
function listening(call: AgentCall): { answer: OllamaAnswer; chunks: AnswerChunk[] } {
  const chunks: AnswerChunk[] = [];
  return { answer: new OllamaAnswer(call, (chunk) => chunks.push(chunk)), chunks };
}

describe('OllamaAnswer: generate', () => {
  it('keeps the text, its model, why it stopped and its figures from a whole answer', () => {
    const answer = new OllamaAnswer(GENERATE);
    answer.add({
      model: 'llama3.2:1b',
      response: 'Bees make honey.',
      done: true,
      done_reason: 'stop',
      context: [1],
      ...FIGURES,
    });
    expect(answer.result()).toEqual({
      response: 'Bees make honey.',
      model: 'llama3.2:1b',
      done_reason: 'stop',
      prompt_eval_count: 26,
      eval_count: 290,
      total_duration: 5_043_500_667,
      eval_duration: 4_709_213_000,
    });
  });

  it("gives the call's model, nulls for counts and no durations when fields are missing or of the wrong type", () => {
    const answer = new OllamaAnswer(GENERATE);
    answer.add({ response: 'x', done: true, model: 7, done_reason: 1, eval_count: '12', total_duration: null });
    expect(answer.result()).toEqual({
      response: 'x',
      model: 'llama3.2:1b',
      done_reason: null,
      prompt_eval_count: null,
      eval_count: null,
    });
  });

  it('adds up NDJSON lines, handing each piece of text over as it comes, the figures from the last line', () => {
    const { answer, chunks } = listening(GENERATE);
    for (const line of [
      '{"model":"llama3.2:1b","response":"Bees","done":false}',
      '',
      '{"model":"llama3.2:1b","response":" make honey.","done":false}',
      '{"model":"llama3.2:1b","response":"","done":false}',
      JSON.stringify({ model: 'llama3.2:1b', response: '', done: true, done_reason: 'length', ...FIGURES }),
    ]) {
      answer.addLine(line);
    }
    expect(chunks).toEqual([{ content: 'Bees' }, { content: ' make honey.' }]);
    expect(answer.result()).toMatchObject({ response: 'Bees make honey.', done_reason: 'length', eval_count: 290 });
  });

  it('refuses an answer that ended before "done": true as malformed', () => {
    const answer = new OllamaAnswer(GENERATE);
    answer.addLine('{"response":"Bees","done":false}');
    expect(failureOf(() => answer.result())).toMatchObject({
      kind: 'malformed',
      message: 'the agent answer ended before "done": true',
    });
    expect(failureOf(() => new OllamaAnswer(GENERATE).result()).kind).toBe('malformed');
  });

  it('refuses a piece without a string "response" or a boolean "done" as malformed', () => {
    for (const object of [
      { response: 'Bees' },
      { done: true },
      { response: 42, done: true },
      { response: 'x', done: 'true' },
    ]) {
      expect(failureOf(() => new OllamaAnswer(GENERATE).add(object))).toMatchObject({
        kind: 'malformed',
        message: 'agent answer lacks "response" or "done"',
      });
    }
  });

  it('refuses a line that is not a JSON object as malformed', () => {
    const answer = new OllamaAnswer(GENERATE);
    const html = failureOf(() => answer.addLine('<html>'));
    expect(html.kind).toBe('malformed');
    expect(html.message).toMatch(/^a line of the agent answer .*JSON: <html>$/);
    expect(failureOf(() => answer.addLine('[1]'))).toMatchObject({
      kind: 'malformed',
      message: 'a line of the agent answer is not a JSON object',
    });
  });

  it('calls an error line a server error: the agent failed mid-answer', () => {
    const { answer, chunks } = listening(GENERATE);
    answer.addLine('{"response":"Bees","done":false}');
    expect(
      failureOf(() => answer.addLine('{"error":"an error was encountered while running the model"}')),
    ).toMatchObject({
      kind: 'server_error',
      message: 'the agent failed mid-answer: an error was encountered while running the model',
    });
    expect(chunks).toEqual([{ content: 'Bees' }]);
  });
});

describe('OllamaAnswer: chat', () => {
  const weatherCall = (id?: string) => ({
    ...(id === undefined ? {} : { id }),
    function: { name: 'get_weather', arguments: { city: 'Paris' } },
  });

  it("keeps the assistant's message and the figures of a whole answer", () => {
    const answer = new OllamaAnswer(CHAT);
    answer.add({
      model: 'llama3.2:1b',
      message: { role: 'assistant', content: 'Sunny.' },
      done: true,
      done_reason: 'stop',
      ...FIGURES,
    });
    expect(answer.result()).toEqual({
      message: { role: 'assistant', content: 'Sunny.' },
      model: 'llama3.2:1b',
      done_reason: 'stop',
      prompt_eval_count: 26,
      eval_count: 290,
      total_duration: 5_043_500_667,
      eval_duration: 4_709_213_000,
    });
  });

  it('keeps tool calls with their ids and object arguments, and says the model stopped for them', () => {
    const answer = new OllamaAnswer(CHAT);
    answer.add({
      message: { role: 'assistant', content: '', tool_calls: [weatherCall('call_abc'), weatherCall()] },
      done: true,
      done_reason: 'stop',
    });
    expect(answer.result()).toMatchObject({
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
        ],
      },
      done_reason: 'tool_calls',
    });
  });

  it('keeps arguments given as text as they are, and makes missing ones and names empty', () => {
    const answer = new OllamaAnswer(CHAT);
    const calls = [{ function: { name: 'f', arguments: 'not json' } }, { function: {} }, 'junk'];
    answer.add({ message: { role: 'assistant', content: '', tool_calls: calls }, done: true, done_reason: 'length' });
    expect(answer.result()).toMatchObject({
      message: {
        tool_calls: [
          { id: 'call_0', function: { name: 'f', arguments: 'not json' } },
          { id: 'call_1', function: { name: '', arguments: {} } },
        ],
      },
      done_reason: 'length',
    });
  });

  it('hands over text and tool calls as they stream, giving calls of later lines ids of their own', () => {
    const { answer, chunks } = listening(CHAT);
    const line = (message: Record<string, unknown>, done = false) =>
      answer.addLine(JSON.stringify({ message: { role: 'assistant', ...message }, done }));
    line({ content: 'Let me check.' });
    line({ content: '', tool_calls: [weatherCall()] });
    line({ content: '', tool_calls: [weatherCall()] });
    line({ content: '' });
    answer.addLine(
      JSON.stringify({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', ...FIGURES }),
    );
    expect(chunks.map((c) => [c.content, c.tool_calls?.map((t) => t.id)])).toEqual([
      ['Let me check.', undefined],
      [undefined, ['call_0']],
      [undefined, ['call_1']],
    ]);
    expect(answer.result()).toMatchObject({
      message: { content: 'Let me check.', tool_calls: [{ id: 'call_0' }, { id: 'call_1' }] },
      done_reason: 'tool_calls',
    });
  });

  it('refuses a chat piece without a message as malformed', () => {
    expect(failureOf(() => new OllamaAnswer(CHAT).add({ response: 'Sunny.', done: true }))).toMatchObject({
      kind: 'malformed',
      message: 'agent answer lacks "message" or "done"',
    });
  });
});

describe('embedResult', () => {
  it('keeps one vector per input, the model and the prompt count', () => {
    const body = JSON.stringify({
      model: 'nomic-embed-text',
      embeddings: [
        [0.1, -0.2],
        [0.3, 0.4],
      ],
      total_duration: 14_143_917,
      load_duration: 1_019_500,
      prompt_eval_count: 8,
    });
    expect(embedResult(body, EMBED)).toEqual({
      embeddings: [
        [0.1, -0.2],
        [0.3, 0.4],
      ],
      model: 'nomic-embed-text',
      done_reason: null,
      prompt_eval_count: 8,
      eval_count: null,
      total_duration: 14_143_917,
    });
  });

  it("expects one vector for a single string, and gives the call's model when the answer names none", () => {
    const call = { ...EMBED, input: { input: 'a' } };
    expect(embedResult('{"embeddings":[[1,2,3]]}', call)).toEqual({
      embeddings: [[1, 2, 3]],
      model: 'nomic-embed-text',
      done_reason: null,
      prompt_eval_count: null,
      eval_count: null,
    });
  });

  it('refuses an answer without one vector of numbers per input as malformed', () => {
    for (const embeddings of [[[1]], [[1], [2], [3]], [[1], ['2']], [[1], null], undefined, 'vectors']) {
      expect(failureOf(() => embedResult(JSON.stringify({ embeddings }), EMBED))).toMatchObject({
        kind: 'malformed',
        message: 'agent answer lacks 2 embedding vector(s)',
      });
    }
  });

  it('refuses a body that is not a JSON object as malformed', () => {
    const text = failureOf(() => embedResult('Internal error', EMBED));
    expect(text.kind).toBe('malformed');
    expect(text.message).toMatch(/^agent answer .*JSON: Internal error$/);
    expect(failureOf(() => embedResult('[[1],[2]]', EMBED))).toMatchObject({
      kind: 'malformed',
      message: 'agent answer is not a JSON object',
    });
  });
});
