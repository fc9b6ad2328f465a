import type { TaskResult, ToolCall } from '@hive/coordinator';
import type { AnswerContext, AnswerFormat } from '../answer-format.js';
import { chatCompletionFormat, completionFormat, embeddingFormat } from './openai-answers.js';

const CONTEXT: AnswerContext = {
  start: { taskId: '0b7c2f9e-task', agentId: 'agent-a', queueMs: 12 },
  model: 'gpt-4o-mini',
  created: 1_765_000_000,
};

const METADATA = { model: 'llama3', done_reason: 'stop', prompt_eval_count: 9, eval_count: 4 };

const weather: ToolCall = {
  id: 'call_1',
  type: 'function',
  function: { name: 'weather', arguments: { city: 'Paris', days: 2 } },
};
const raw: ToolCall = { id: 'call_2', type: 'function', function: { name: 'echo', arguments: 'not json' } };

const chatResult = (content: string, tool_calls?: ToolCall[], extra: Partial<TaskResult> = {}): TaskResult => ({
  ...METADATA,
  message: { role: 'assistant', content, ...(tool_calls === undefined ? {} : { tool_calls }) },
  ...extra,
});

/**
 * The events of an SSE text: each `data: …` block parsed, `[DONE]` kept as the string. Fails when a block is not a
 * data line ending in a blank line.
 */
function events(text: string): unknown[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      expect(block.startsWith('data: ')).toBe(true);
      const data = block.slice('data: '.length);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
}

/** A whole streamed answer: the pieces' text and the finish, in order. */
function streamed(format: AnswerFormat, pieces: Parameters<AnswerFormat['piece']>[0][], result: TaskResult): string {
  return pieces.map((p) => format.piece(p)).join('') + format.finish(result);
}

/** A chat.completion.chunk as it is sent (usage: null on each when the client asked for usage). */
const chunk = (delta: object, finish_reason: string | null = null, usage?: null) => ({
  id: `chatcmpl-${CONTEXT.start.taskId}`,
  object: 'chat.completion.chunk',
  created: CONTEXT.created,
  model: CONTEXT.model,
  choices: [{ index: 0, delta, logprobs: null, finish_reason }],
  ...(usage === undefined ? {} : { usage }),
});

describe('chatCompletionFormat: whole answers', () => {
  const whole = (result: TaskResult) => chatCompletionFormat(false)(CONTEXT).whole(result);

  it('a text answer is a chat.completion with its usage', () => {
    expect(whole(chatResult('Paris.'))).toEqual({
      id: 'chatcmpl-0b7c2f9e-task',
      object: 'chat.completion',
      created: CONTEXT.created,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Paris.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    });
  });

  it('tool calls carry their arguments as JSON text, content is null, and finish_reason is tool_calls', () => {
    const answer = whole(chatResult('', [weather, raw])) as { choices: { message: object; finish_reason: string }[] };

    expect(answer.choices[0]).toMatchObject({
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris","days":2}' } },
          { id: 'call_2', type: 'function', function: { name: 'echo', arguments: 'not json' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    const [call] = (answer.choices[0].message as { tool_calls: { function: { arguments: string } }[] }).tool_calls;
    expect(JSON.parse(call.function.arguments)).toEqual(weather.function.arguments);
  });

  it('keeps text said beside tool calls', () => {
    const answer = whole(chatResult('Let me look.', [weather])) as { choices: { message: { content: unknown } }[] };
    expect(answer.choices[0].message.content).toBe('Let me look.');
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['stop', 'stop'],
    [null, 'stop'],
    ['load', 'stop'],
  ])('done_reason %j → finish_reason %j', (done_reason, finish_reason) => {
    expect(whole(chatResult('x', undefined, { done_reason }))).toMatchObject({ choices: [{ finish_reason }] });
  });

  it('counts unknown token counts as 0', () => {
    const result = chatResult('x', undefined, { prompt_eval_count: null, eval_count: null });
    expect(whole(result)).toMatchObject({ usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
  });
});

describe('chatCompletionFormat: streams', () => {
  it('is an event stream', () => {
    expect(chatCompletionFormat(false)(CONTEXT).streamType).toMatch(/^text\/event-stream/);
  });

  it('the first chunk has the role, pieces follow in order, then the finish and [DONE]', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    const text = streamed(format, [{ content: 'Par' }, { content: '' }, { content: 'is.' }], chatResult('Paris.'));

    expect(events(text)).toEqual([
      chunk({ role: 'assistant', content: 'Par' }),
      chunk({ content: 'is.' }),
      chunk({}, 'stop'),
      '[DONE]',
    ]);
  });

  it('a piece with nothing in it sends nothing', () => {
    const format = chatCompletionFormat(false)(CONTEXT);
    expect(format.piece({})).toBe('');
    expect(format.piece({ content: '', tool_calls: [] })).toBe('');
  });

  it('the finish sends the text the pieces did not carry', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    const text = streamed(format, [{ content: 'Par' }], chatResult('Paris.', undefined, { done_reason: 'length' }));

    expect(events(text)).toEqual([
      chunk({ role: 'assistant', content: 'Par' }),
      chunk({ content: 'is.' }),
      chunk({}, 'length'),
      '[DONE]',
    ]);
  });

  it('an answer that arrived whole goes out at the finish, with the role', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    expect(events(format.finish(chatResult('Paris.')))).toEqual([
      chunk({ role: 'assistant', content: 'Paris.' }),
      chunk({}, 'stop'),
      '[DONE]',
    ]);
  });

  it('an empty answer still sends the role before the finish', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    expect(events(format.finish(chatResult('')))).toEqual([chunk({ role: 'assistant' }), chunk({}, 'stop'), '[DONE]']);
  });

  it('tool calls sent only in the result go out at the finish, numbered from 0, arguments as JSON text', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    const text = streamed(format, [{ content: 'Looking.' }], chatResult('Looking.', [weather, raw]));

    expect(events(text)).toEqual([
      chunk({ role: 'assistant', content: 'Looking.' }),
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris","days":2}' },
          },
          { index: 1, id: 'call_2', type: 'function', function: { name: 'echo', arguments: 'not json' } },
        ],
      }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
  });

  it('streamed tool calls are numbered on across pieces and not sent again at the finish', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    const text = streamed(format, [{ tool_calls: [weather] }, { tool_calls: [raw] }], chatResult('', [weather, raw]));

    expect(events(text)).toEqual([
      chunk({
        role: 'assistant',
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris","days":2}' },
          },
        ],
      }),
      chunk({
        tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'echo', arguments: 'not json' } }],
      }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
  });

  it('with include_usage: usage null on each chunk, then a chunk with no choices and the usage, then [DONE]', () => {
    const format = chatCompletionFormat(true)(CONTEXT);

    const text = streamed(format, [{ content: 'Paris.' }], chatResult('Paris.'));

    expect(events(text)).toEqual([
      chunk({ role: 'assistant', content: 'Paris.' }, null, null),
      chunk({}, 'stop', null),
      {
        id: 'chatcmpl-0b7c2f9e-task',
        object: 'chat.completion.chunk',
        created: CONTEXT.created,
        model: 'gpt-4o-mini',
        choices: [],
        usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
      },
      '[DONE]',
    ]);
  });

  it('a failure after the first piece is an error event, and no [DONE]', () => {
    const format = chatCompletionFormat(false)(CONTEXT);

    expect(events(format.error('agent-a: connection reset'))).toEqual([
      { error: { message: 'agent-a: connection reset', type: 'server_error', param: null, code: 'agent_error' } },
    ]);
  });
});

describe('completionFormat', () => {
  const generated = (response: string, extra: Partial<TaskResult> = {}): TaskResult => ({
    ...METADATA,
    response,
    ...extra,
  });
  const textChunk = (text: string, finish_reason: string | null = null) => ({
    id: 'cmpl-0b7c2f9e-task',
    object: 'text_completion',
    created: CONTEXT.created,
    model: 'gpt-4o-mini',
    choices: [{ text, index: 0, logprobs: null, finish_reason }],
  });

  it('a whole answer is a text_completion with its usage', () => {
    expect(completionFormat(false)(CONTEXT).whole(generated('upon a time', { done_reason: 'length' }))).toEqual({
      ...textChunk('upon a time', 'length'),
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    });
  });

  it('streams its pieces, then the text they did not carry with the finish_reason, then [DONE]', () => {
    const format = completionFormat(false)(CONTEXT);

    const text = streamed(format, [{ content: 'upon ' }, { content: '' }, { content: 'a' }], generated('upon a time'));

    expect(events(text)).toEqual([textChunk('upon '), textChunk('a'), textChunk(' time', 'stop'), '[DONE]']);
  });

  it('with include_usage, a chunk with no choices and the usage comes before [DONE]', () => {
    const format = completionFormat(true)(CONTEXT);

    const text = streamed(format, [{ content: 'upon a time' }], generated('upon a time'));

    expect(events(text)).toEqual([
      textChunk('upon a time'),
      textChunk('', 'stop'),
      { ...textChunk(''), choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } },
      '[DONE]',
    ]);
  });

  it('a failure after the first piece is an error event, and no [DONE]', () => {
    expect(events(completionFormat(false)(CONTEXT).error('boom'))).toEqual([
      { error: { message: 'boom', type: 'server_error', param: null, code: 'agent_error' } },
    ]);
  });
});

describe('embeddingFormat', () => {
  // 0.1 and 1/3 are not float32 values: base64 carries their nearest float32, as OpenAI's does.
  const vectors = [
    [0.25, -1.5, 0.1],
    [1 / 3, 0, 1e-8],
  ];
  const result: TaskResult = { ...METADATA, embeddings: vectors, prompt_eval_count: 6 };

  /** The float32 values of OpenAI's base64 encoding (little-endian). */
  function decoded(text: string): number[] {
    const bytes = Buffer.from(text, 'base64');
    return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
  }

  it('lists the vectors as floats, in the order of the inputs, with the usage', () => {
    expect(embeddingFormat(false)(CONTEXT).whole(result)).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: vectors[0] },
        { object: 'embedding', index: 1, embedding: vectors[1] },
      ],
      model: 'gpt-4o-mini',
      usage: { prompt_tokens: 6, total_tokens: 6 },
    });
  });

  it('base64: each vector decodes back to its float32 values', () => {
    const answer = embeddingFormat(true)(CONTEXT).whole(result) as { data: { index: number; embedding: string }[] };

    expect(answer.data.map((d) => d.index)).toEqual([0, 1]);
    for (const [i, { embedding }] of answer.data.entries()) {
      expect(typeof embedding).toBe('string');
      expect(decoded(embedding)).toEqual(vectors[i].map(Math.fround));
    }
  });

  it('no vectors is an empty list', () => {
    expect(embeddingFormat(false)(CONTEXT).whole({ ...METADATA, prompt_eval_count: null })).toMatchObject({
      data: [],
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });
});
