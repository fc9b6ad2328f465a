import { AgentCallError } from '../../client/agent-call-error.js';
import type { AnswerChunk } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { embeddingsResult, OpenAiAnswer } from './openai-answers.js';

const CHAT: AgentCall = {
  operation: 'chat',
  model: 'gpt-4o-mini',
  input: { messages: [{ role: 'user', content: 'Hi' }] },
};
const GENERATE: AgentCall = { operation: 'generate', model: 'gpt-4o-mini', input: { prompt: 'Hi' } };
const EMBED: AgentCall & { operation: 'embed' } = {
  operation: 'embed',
  model: 'text-embedding-3-small',
  input: { input: ['a', 'b', 'c'] },
};

/** A call that started 2 ms ago: Hive measures the duration OpenAI servers do not report. */
const twoMsAgo = (): number => performance.now() - 2;

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

/** A whole chat completion with one choice. */
const completion = (message: Record<string, unknown>, finish_reason: unknown = 'stop') => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_748_779_200,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason }],
  usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
});

/** The data of one streamed chunk with one choice. */
const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null): string =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, finish_reason }],
    usage: null,
  });

const USAGE_CHUNK = JSON.stringify({
  id: 'chatcmpl-1',
  choices: [],
  usage: { prompt_tokens: 9, completion_tokens: 2 },
});

/** An answer that records the chunks it hands over. */
function listening(call: AgentCall): { answer: OpenAiAnswer; chunks: AnswerChunk[] } {
  const chunks: AnswerChunk[] = [];
  return { answer: new OpenAiAnswer(call, twoMsAgo(), (c) => chunks.push(c)), chunks };
}

describe('OpenAiAnswer: a whole completion', () => {
  it("keeps the assistant's message, its model, why it stopped, the token counts and the call's duration", () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    answer.addCompletion(completion({ content: 'Hello!' }));
    const result = answer.result();
    expect(result).toEqual({
      message: { role: 'assistant', content: 'Hello!' },
      model: 'gpt-4o-mini-2024-07-18',
      done_reason: 'stop',
      prompt_eval_count: 9,
      eval_count: 12,
      total_duration: expect.any(Number) as number,
    });
    expect(result.total_duration).toBeGreaterThanOrEqual(2_000_000);
  });

  it('gives the text of a generate, which ran as a chat, as its response', () => {
    const answer = new OpenAiAnswer(GENERATE, twoMsAgo());
    answer.addCompletion(completion({ content: 'Hello!' }, 'length'));
    expect(answer.result()).toMatchObject({ response: 'Hello!', done_reason: 'length' });
    expect(answer.result().message).toBeUndefined();
  });

  it('turns tool-call arguments from JSON text into objects, keeping text that is not a JSON object', () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    const tool_calls = [
      { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { type: 'function', function: { name: 'f', arguments: 'not json' } },
      { id: 'call_obj', type: 'function', function: { name: 'g', arguments: { given: 'as an object' } } },
    ];
    answer.addCompletion(completion({ content: null, tool_calls }, 'tool_calls'));
    expect(answer.result()).toMatchObject({
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
          { id: 'call_1', type: 'function', function: { name: 'f', arguments: 'not json' } },
          { id: 'call_obj', type: 'function', function: { name: 'g', arguments: { given: 'as an object' } } },
        ],
      },
      done_reason: 'tool_calls',
    });
  });

  it("takes the legacy function_call finish as tool_calls, and an odd one as none; the call's model when none is named", () => {
    const legacy = new OpenAiAnswer(CHAT, twoMsAgo());
    legacy.addCompletion(completion({ content: '' }, 'function_call'));
    expect(legacy.result().done_reason).toBe('tool_calls');

    const odd = new OpenAiAnswer(CHAT, twoMsAgo());
    odd.addCompletion({ model: '', choices: [{ message: { content: 'x' }, finish_reason: 3 }] });
    expect(odd.result()).toMatchObject({ model: 'gpt-4o-mini', done_reason: null, prompt_eval_count: null });
  });

  it('refuses an answer without choices[0].message as malformed', () => {
    for (const answer of [{}, { choices: [] }, { choices: [{ text: 'Hi' }] }, { choices: 'Hi' }]) {
      expect(failureOf(() => new OpenAiAnswer(CHAT, twoMsAgo()).addCompletion(answer))).toMatchObject({
        kind: 'malformed',
        message: 'agent answer lacks choices[0].message',
      });
    }
  });
});

describe('OpenAiAnswer: a streamed completion', () => {
  it('adds up the text of the events, handing each piece over, and takes the usage chunk; [DONE] ends it', () => {
    const { answer, chunks } = listening(CHAT);
    const events = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      USAGE_CHUNK,
    ];
    expect(events.map((data) => answer.addEvent(data))).toEqual([true, true, true, true, true]);
    expect(answer.addEvent(' [DONE] ')).toBe(false);
    expect(chunks).toEqual([{ content: 'Hel' }, { content: 'lo' }]);
    expect(answer.result()).toMatchObject({
      message: { role: 'assistant', content: 'Hello' },
      model: 'gpt-4o-mini-2024-07-18',
      done_reason: 'stop',
      prompt_eval_count: 9,
      eval_count: 2,
    });
  });

  it('assembles tool calls from their pieces by index, handing them over whole once the model finished them', () => {
    const { answer, chunks } = listening(CHAT);
    const piece = (index: number, fields: Record<string, unknown>) => chunk({ tool_calls: [{ index, ...fields }] });
    for (const data of [
      chunk({ content: 'Checking.' }),
      piece(0, { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '' } }),
      piece(1, { id: 'call_t', type: 'function', function: { name: 'get_', arguments: '{}' } }),
      piece(0, { function: { arguments: '{"ci' } }),
      piece(1, { function: { name: 'time' } }),
      piece(0, { function: { arguments: 'ty":"Paris"}' } }),
      chunk({}, 'tool_calls'),
    ]) {
      answer.addEvent(data);
    }
    const calls = [
      { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
      { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: {} } },
    ];
    expect(chunks).toEqual([{ content: 'Checking.' }, { tool_calls: calls }]);
    expect(answer.result()).toMatchObject({
      message: { content: 'Checking.', tool_calls: calls },
      done_reason: 'tool_calls',
    });
  });

  it('makes ids for tool calls streamed without one, and places pieces without an index as new calls', () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    answer.addEvent(chunk({ tool_calls: [{ function: { name: 'a', arguments: '{}' } }] }));
    answer.addEvent(chunk({ tool_calls: [{ function: { name: 'b', arguments: '{}' } }] }));
    answer.addEvent(chunk({}, 'tool_calls'));
    expect(answer.result().message?.tool_calls?.map((c) => [c.id, c.function.name])).toEqual([
      ['call_0', 'a'],
      ['call_1', 'b'],
    ]);
  });

  it('gives the text of a streamed generate as its response', () => {
    const answer = new OpenAiAnswer(GENERATE, twoMsAgo());
    answer.addEvent(chunk({ content: 'Hi there' }, 'stop'));
    expect(answer.result()).toMatchObject({ response: 'Hi there', done_reason: 'stop', prompt_eval_count: null });
  });

  it('calls an error event a server error: the agent failed mid-answer', () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    answer.addEvent(chunk({ content: 'Hel' }));
    expect(failureOf(() => answer.addEvent('{"error":{"message":"CUDA out of memory","code":500}}'))).toMatchObject({
      kind: 'server_error',
      message: 'the agent failed mid-answer: CUDA out of memory',
    });
    expect(failureOf(() => answer.addEvent('{"error":"overloaded"}')).message).toBe(
      'the agent failed mid-answer: overloaded',
    );
  });

  it('refuses an event that is not a JSON object as malformed', () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    const cut = failureOf(() => answer.addEvent('{"choices":'));
    expect(cut.kind).toBe('malformed');
    expect(cut.message).toMatch(/^an event of the agent answer .*JSON: \{"choices":$/);
    expect(failureOf(() => answer.addEvent('"Hello"')).message).toBe(
      'an event of the agent answer is not a JSON object',
    );
  });

  it('refuses a stream that stopped without a finish_reason or [DONE] as malformed: it was cut short', () => {
    const cut = new OpenAiAnswer(CHAT, twoMsAgo());
    cut.addEvent(chunk({ role: 'assistant', content: 'Hel' }));
    expect(failureOf(() => cut.result())).toMatchObject({
      kind: 'malformed',
      message: 'the agent answer ended before it finished',
    });

    const finished = new OpenAiAnswer(CHAT, twoMsAgo());
    finished.addEvent(chunk({ content: 'Hello' }, 'stop'));
    expect(finished.result().message?.content).toBe('Hello'); // a finish_reason says it is whole, [DONE] or not
  });

  it('refuses an answer that ended before any of it came as malformed', () => {
    const answer = new OpenAiAnswer(CHAT, twoMsAgo());
    expect(answer.addEvent('[DONE]')).toBe(false);
    expect(failureOf(() => answer.result())).toMatchObject({
      kind: 'malformed',
      message: 'the agent answer ended before any of it came',
    });
  });
});

describe('embeddingsResult', () => {
  const item = (index: number, embedding: unknown) => ({ object: 'embedding', index, embedding });

  it('gives the vectors in the order of the inputs, the model and the prompt tokens', () => {
    const body = JSON.stringify({
      object: 'list',
      data: [item(2, [0.5]), item(0, [0.1]), item(1, [0.3])],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(embeddingsResult(body, EMBED, twoMsAgo())).toEqual({
      embeddings: [[0.1], [0.3], [0.5]],
      model: 'text-embedding-3-small',
      done_reason: null,
      prompt_eval_count: 3,
      eval_count: null,
      total_duration: expect.any(Number) as number,
    });
  });

  it("gives the call's model and no count when the answer names neither; one vector for a single string", () => {
    const call = { ...EMBED, input: { input: 'a' } };
    expect(embeddingsResult(JSON.stringify({ data: [item(0, [1, 2])] }), call, twoMsAgo())).toMatchObject({
      embeddings: [[1, 2]],
      model: 'text-embedding-3-small',
      prompt_eval_count: null,
    });
  });

  it('refuses an answer without one vector of numbers per input as malformed', () => {
    for (const data of [[item(0, [1]), item(1, [2])], [item(0, [1]), item(1, [2]), item(2, 'base64')], undefined]) {
      expect(failureOf(() => embeddingsResult(JSON.stringify({ data }), EMBED, twoMsAgo()))).toMatchObject({
        kind: 'malformed',
        message: 'agent answer lacks 3 embedding vector(s)',
      });
    }
  });

  it('refuses a body that is not a JSON object as malformed', () => {
    const html = failureOf(() => embeddingsResult('<html>', EMBED, twoMsAgo()));
    expect(html.kind).toBe('malformed');
    expect(html.message).toMatch(/^agent answer .*JSON: <html>$/);
  });
});
