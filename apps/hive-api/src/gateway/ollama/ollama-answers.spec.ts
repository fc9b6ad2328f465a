import type { TaskResult, ToolCall } from '@hive/coordinator';
import type { AnswerContext, AnswerFormat } from '../answer-format.js';
import { chatFormat, embedFormat, generateFormat } from './ollama-answers.js';

const CONTEXT: AnswerContext = {
  start: { taskId: '5d1e-task', agentId: 'agent-b', queueMs: 3 },
  model: 'llama3.2',
  created: 1_765_000_000,
};

const METADATA = {
  model: 'llama3.2:3b',
  done_reason: 'stop',
  prompt_eval_count: 26,
  eval_count: 7,
  total_duration: 2_000_000_000,
  eval_duration: 800_000_000,
};

/** The statistics of Ollama's last line for METADATA. */
const STATS = {
  done: true,
  done_reason: 'stop',
  total_duration: 2_000_000_000,
  load_duration: 0,
  prompt_eval_count: 26,
  eval_count: 7,
  eval_duration: 800_000_000,
};

const weather: ToolCall = {
  id: 'call_1',
  type: 'function',
  function: { name: 'weather', arguments: { city: 'Oslo' } },
};
const OLLAMA_WEATHER = { function: { name: 'weather', arguments: { city: 'Oslo' } } };

const chatResult = (content: string, tool_calls?: ToolCall[]): TaskResult => ({
  ...METADATA,
  message: { role: 'assistant', content, ...(tool_calls === undefined ? {} : { tool_calls }) },
});

const at = expect.any(String) as unknown as string;

/** The lines of an NDJSON text, each parsed; fails when the text does not end in a newline. */
function lines(text: string): Record<string, unknown>[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function streamed(format: AnswerFormat, pieces: Parameters<AnswerFormat['piece']>[0][], result: TaskResult): string {
  return pieces.map((p) => format.piece(p)).join('') + format.finish(result);
}

/** Each created_at is an ISO 8601 time, as Ollama sends it. */
function expectIsoTimes(parsed: readonly Record<string, unknown>[]): void {
  for (const line of parsed) {
    expect(new Date(line.created_at as string).toISOString()).toBe(line.created_at);
  }
}

describe('chatFormat (/api/chat)', () => {
  it('is NDJSON', () => {
    expect(chatFormat(CONTEXT).streamType).toBe('application/x-ndjson');
  });

  it('streams a line per piece, then a last line done: true with the counts and durations', () => {
    const format = chatFormat(CONTEXT);

    const parsed = lines(
      streamed(format, [{ content: 'Hel' }, { content: '' }, { content: 'lo' }], chatResult('Hello')),
    );

    expect(parsed).toEqual([
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: 'Hel' }, done: false },
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: 'lo' }, done: false },
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: '' }, ...STATS },
    ]);
    expectIsoTimes(parsed);
  });

  it('the last line carries the text and the tool calls the pieces did not, in Ollama form', () => {
    const format = chatFormat(CONTEXT);

    const parsed = lines(streamed(format, [{ content: 'Let me ' }], chatResult('Let me look.', [weather])));

    expect(parsed).toEqual([
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: 'Let me ' }, done: false },
      {
        model: 'llama3.2',
        created_at: at,
        message: { role: 'assistant', content: 'look.', tool_calls: [OLLAMA_WEATHER] },
        ...STATS,
      },
    ]);
  });

  it('tool calls streamed in a piece are not sent again on the last line', () => {
    const format = chatFormat(CONTEXT);

    const parsed = lines(streamed(format, [{ tool_calls: [weather] }], chatResult('', [weather])));

    expect(parsed.map((line) => [line.message, line.done])).toEqual([
      [{ role: 'assistant', content: '', tool_calls: [OLLAMA_WEATHER] }, false],
      [{ role: 'assistant', content: '' }, true],
    ]);
  });

  it('a piece with nothing in it sends nothing', () => {
    expect(chatFormat(CONTEXT).piece({ content: '', tool_calls: [] })).toBe('');
  });

  it('a whole answer is the last line alone, with the whole message', () => {
    const answer = chatFormat(CONTEXT).whole(chatResult('Checking.', [weather]));

    expect(answer).toEqual({
      model: 'llama3.2',
      created_at: at,
      message: { role: 'assistant', content: 'Checking.', tool_calls: [OLLAMA_WEATHER] },
      ...STATS,
    });
  });

  it('what the agent did not report reads stop and 0', () => {
    const answer = chatFormat(CONTEXT).whole({
      model: 'gpt-4o',
      done_reason: null,
      prompt_eval_count: null,
      eval_count: null,
      message: { role: 'assistant', content: 'Hi' },
    });

    expect(answer).toMatchObject({
      done: true,
      done_reason: 'stop',
      total_duration: 0,
      load_duration: 0,
      prompt_eval_count: 0,
      eval_count: 0,
      eval_duration: 0,
    });
  });

  it('a failure after the first piece is an error line', () => {
    expect(lines(chatFormat(CONTEXT).error('agent-b: connection reset'))).toEqual([
      { error: 'agent-b: connection reset' },
    ]);
  });
});

describe('generateFormat (/api/generate)', () => {
  const generated: TaskResult = { ...METADATA, done_reason: 'length', response: 'Once upon a time' };

  it('streams response pieces, then a last line with the rest and the statistics', () => {
    const format = generateFormat(CONTEXT);

    const parsed = lines(streamed(format, [{ content: 'Once ' }, { content: '' }, { content: 'upon' }], generated));

    expect(parsed).toEqual([
      { model: 'llama3.2', created_at: at, response: 'Once ', done: false },
      { model: 'llama3.2', created_at: at, response: 'upon', done: false },
      { model: 'llama3.2', created_at: at, response: ' a time', ...STATS, done_reason: 'length' },
    ]);
    expectIsoTimes(parsed);
    expect(format.streamType).toBe('application/x-ndjson');
  });

  it('a whole answer is one object with the response and the statistics', () => {
    expect(generateFormat(CONTEXT).whole(generated)).toEqual({
      model: 'llama3.2',
      created_at: at,
      response: 'Once upon a time',
      ...STATS,
      done_reason: 'length',
    });
  });

  it('a failure after the first piece is an error line', () => {
    expect(lines(generateFormat(CONTEXT).error('boom'))).toEqual([{ error: 'boom' }]);
  });
});

describe('embedFormat (/api/embed)', () => {
  it('answers the vectors in the order of the inputs, with the duration and the prompt tokens', () => {
    const embeddings = [
      [0.1, 0.2],
      [-0.3, 0.4],
    ];

    expect(embedFormat(CONTEXT).whole({ ...METADATA, embeddings })).toEqual({
      model: 'llama3.2',
      embeddings,
      total_duration: 2_000_000_000,
      load_duration: 0,
      prompt_eval_count: 26,
    });
  });
});
