import { GatewayError } from '../gateway-error.js';
import { chatCall, embedCall, generateCall, shownModel } from './ollama-requests.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUg==';
const user = (content: string) => ({ role: 'user', content });

/** The 400 a request is refused with: its status, the field it names, and its message. */
function refusalOf(call: () => unknown): { status: number; param: string | undefined; message: string } {
  try {
    call();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { status: error.getStatus(), param: error.details.param, message: error.message };
  }
  throw new Error('expected the request to be refused');
}

describe('chatCall (POST /api/chat)', () => {
  it.each([
    { stream: undefined, streams: true },
    { stream: null, streams: true },
    { stream: true, streams: true },
    { stream: false, streams: false },
  ])('stream $stream: streams $streams (Ollama streams unless told not to)', ({ stream, streams }) => {
    expect(chatCall({ model: 'llama3', messages: [user('Hi')], stream }).stream).toBe(streams);
  });

  it('passes messages, tools, format, options and keep_alive as Hive takes them', () => {
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const schema = { type: 'object', properties: { city: { type: 'string' } } };

    const call = chatCall({
      model: 'llama3.2:3b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Look', images: [PNG] },
      ],
      tools,
      format: schema,
      options: { temperature: 0, num_ctx: 4096 },
      keep_alive: '10m',
    });

    expect(call).toEqual({
      model: 'llama3.2:3b',
      stream: true,
      input: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Look', images: [PNG] },
        ],
        tools,
        format: schema,
        options: { temperature: 0, num_ctx: 4096 },
        keep_alive: '10m',
      },
    });
  });

  it('a tool conversation: calls without ids get one, and tool answers keep their tool_name', () => {
    const call = chatCall({
      model: 'llama3',
      messages: [
        user('Weather?'),
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'weather', arguments: { city: 'Oslo' } } }],
        },
        { role: 'tool', content: '-3°C', tool_name: 'weather' },
      ],
    });

    expect(call.input.messages).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1_0', type: 'function', function: { name: 'weather', arguments: { city: 'Oslo' } } }],
      },
      { role: 'tool', content: '-3°C', tool_name: 'weather' },
    ]);
  });

  it('drops message fields Hive does not know (thinking) and Ollama fields it does not use', () => {
    const call = chatCall({
      model: 'llama3',
      messages: [user('Hi'), { role: 'assistant', content: 'Hello', thinking: 'greet back' }],
      think: true,
      format: '',
      keep_alive: null,
      options: null,
    });

    expect(call.input).toEqual({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
  });

  it('takes "json" as format', () => {
    expect(chatCall({ model: 'm', messages: [user('Hi')], format: 'json' }).input.format).toBe('json');
  });

  it.each([
    { why: 'no model', body: { model: undefined }, param: 'model' },
    { why: 'no messages', body: { messages: [] }, param: 'messages' },
    { why: 'a format that is neither "json" nor a schema', body: { format: 'xml' }, param: 'format' },
    {
      why: 'a role Hive does not know',
      body: { messages: [{ role: 'robot', content: 'x' }] },
      param: 'messages.0.role',
    },
    { why: 'a keep_alive that is not a duration', body: { keep_alive: 'soon' }, param: 'keep_alive' },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => chatCall({ model: 'm', messages: [user('Hi')], ...body }))).toMatchObject({
      status: 400,
      param,
    });
  });

  it('names a field it does not know by its path, in the message and as param', () => {
    const tools = [{ type: 'function', function: { name: 'weather' }, cache: true }];

    expect(refusalOf(() => chatCall({ model: 'm', messages: [user('Hi')], tools }))).toEqual({
      status: 400,
      param: 'tools.0.cache',
      message: 'property tools.0.cache should not exist',
    });
  });
});

describe('generateCall (POST /api/generate)', () => {
  it('passes prompt, system, images and tuning; streams by default', () => {
    const call = generateCall({
      model: 'llava',
      prompt: 'What is this?',
      system: 'Be brief.',
      images: [PNG],
      format: 'json',
      options: { num_predict: 20 },
      keep_alive: 0,
      think: false,
      suffix: null,
      context: null,
    });

    expect(call).toEqual({
      model: 'llava',
      stream: true,
      input: {
        prompt: 'What is this?',
        system: 'Be brief.',
        images: [PNG],
        format: 'json',
        options: { num_predict: 20 },
        keep_alive: 0,
      },
    });
    expect(generateCall({ model: 'm', prompt: 'Hi', stream: false })).toEqual({
      model: 'm',
      stream: false,
      input: { prompt: 'Hi' },
    });
  });

  it.each([
    { why: 'a suffix', body: { suffix: 'end' }, param: 'suffix' },
    { why: 'raw', body: { raw: true }, param: 'raw' },
    { why: 'a context', body: { context: [1, 2, 3] }, param: 'context' },
    { why: 'an image that is not base64', body: { images: ['not base64!'] }, param: 'images.0' },
    { why: 'no model', body: { model: '' }, param: 'model' },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => generateCall({ model: 'm', prompt: 'Hi', ...body }))).toMatchObject({ status: 400, param });
  });
});

describe('embedCall (POST /api/embed)', () => {
  it('passes the input with options and keep_alive, never streamed; truncate is ignored', () => {
    expect(
      embedCall({
        model: 'nomic-embed-text',
        input: ['a', 'b'],
        options: { num_ctx: 512 },
        keep_alive: '1m',
        truncate: true,
      }),
    ).toEqual({
      model: 'nomic-embed-text',
      stream: false,
      input: { input: ['a', 'b'], options: { num_ctx: 512 }, keep_alive: '1m' },
    });
    expect(embedCall({ model: 'm', input: 'one' }).input).toEqual({ input: 'one' });
  });

  it.each([
    { why: 'dimensions', body: { dimensions: 256 }, param: 'dimensions' },
    { why: 'an empty list', body: { input: [] }, param: 'input' },
    { why: 'no input', body: { input: undefined }, param: 'input' },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => embedCall({ model: 'm', input: 'x', ...body }))).toMatchObject({ status: 400, param });
  });
});

describe('shownModel (POST /api/show)', () => {
  it('is the model asked about, by `model` or by its older name `name`', () => {
    expect(shownModel({ model: 'llama3' })).toBe('llama3');
    expect(shownModel({ name: 'qwen2:7b' })).toBe('qwen2:7b');
    expect(shownModel({ model: 'llama3', name: 'other', verbose: true })).toBe('llama3');
  });

  it.each([{}, { name: '' }, undefined])('refuses %j with a 400 naming model', (body) => {
    expect(refusalOf(() => shownModel(body))).toMatchObject({ status: 400, param: 'model' });
  });
});
