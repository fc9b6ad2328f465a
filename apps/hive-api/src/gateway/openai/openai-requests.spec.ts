import { GatewayError } from '../gateway-error.js';
import { chatCall, completionCall, embeddingCall } from './openai-requests.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUg==';
const user = (content: unknown) => ({ role: 'user', content });

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

describe('chatCall (POST /v1/chat/completions)', () => {
  it('maps the sampling fields to Hive options by their Ollama names', () => {
    const call = chatCall({
      model: 'gpt-4o-mini',
      messages: [user('Hi')],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      stop: 'END',
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
    });

    expect(call).toEqual({
      model: 'gpt-4o-mini',
      stream: false,
      includeUsage: false,
      input: {
        messages: [{ role: 'user', content: 'Hi' }],
        options: {
          temperature: 0.2,
          top_p: 0.9,
          num_predict: 64,
          stop: ['END'],
          seed: 7,
          presence_penalty: 0.5,
          frequency_penalty: -0.5,
        },
      },
    });
  });

  it('takes max_completion_tokens as num_predict, before max_tokens', () => {
    const both = chatCall({ model: 'm', messages: [user('Hi')], max_tokens: 10, max_completion_tokens: 20 });
    const newer = chatCall({ model: 'm', messages: [user('Hi')], max_completion_tokens: 30 });

    expect(both.input.options).toEqual({ num_predict: 20 });
    expect(newer.input.options).toEqual({ num_predict: 30 });
  });

  it('keeps a list of stop sequences, and leaves out fields sent as null', () => {
    const call = chatCall({
      model: 'm',
      messages: [user('Hi')],
      stop: ['a', 'b'],
      temperature: null,
      max_tokens: null,
      seed: null,
      n: null,
      tools: null,
      response_format: null,
      stream: null,
    });

    expect(call.stream).toBe(false);
    expect(call.input).toEqual({ messages: [{ role: 'user', content: 'Hi' }], options: { stop: ['a', 'b'] } });
  });

  it.each([
    { response_format: { type: 'text' }, format: undefined },
    { response_format: { type: 'json_object' }, format: 'json' },
    {
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } } },
      },
      format: { type: 'object', properties: { name: { type: 'string' } } },
    },
  ])('response_format $response_format.type → format $format', ({ response_format, format }) => {
    const call = chatCall({ model: 'm', messages: [user('Hi')], response_format });

    expect(call.input.format).toEqual(format);
    expect('format' in call.input).toBe(format !== undefined);
  });

  it('streams when asked, with usage only when stream_options asks for it', () => {
    const body = { model: 'm', messages: [user('Hi')] };
    expect(chatCall({ ...body, stream: true })).toMatchObject({ stream: true, includeUsage: false });
    expect(chatCall({ ...body, stream: true, stream_options: { include_usage: true } })).toMatchObject({
      stream: true,
      includeUsage: true,
    });
    expect(chatCall({ ...body, stream: false })).toMatchObject({ stream: false, includeUsage: false });
  });

  it('names the tool of each tool answer after the assistant call it answers, with arguments as objects', () => {
    const call = chatCall({
      model: 'm',
      messages: [
        user('Weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'forecast', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: 'rain' },
        { role: 'tool', tool_call_id: 'call_a', content: 'sun' },
        { role: 'tool', tool_call_id: 'call_unknown', content: '?' },
        { role: 'tool', tool_call_id: 'call_a', name: 'weather_v2', content: 'sun again' },
      ],
    });

    expect(call.input.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: { city: 'Paris' } } },
          { id: 'call_b', type: 'function', function: { name: 'forecast', arguments: { city: 'Rome' } } },
        ],
      },
      { role: 'tool', content: 'rain', tool_call_id: 'call_b', tool_name: 'forecast' },
      { role: 'tool', content: 'sun', tool_call_id: 'call_a', tool_name: 'weather' },
      { role: 'tool', content: '?', tool_call_id: 'call_unknown' },
      // A name of its own is kept as it is.
      { role: 'tool', content: 'sun again', tool_call_id: 'call_a', tool_name: 'weather_v2' },
    ]);
  });

  it('drops message fields Hive does not know (refusal, annotations, audio, a streamed call index)', () => {
    const call = chatCall({
      model: 'm',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        user('Hi'),
        {
          role: 'assistant',
          content: 'Hello!',
          refusal: null,
          annotations: [],
          audio: null,
          tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        user('Bye'),
      ],
    });

    expect(call.input.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: 'Hello!',
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: {} } }],
      },
      { role: 'user', content: 'Bye' },
    ]);
  });

  it('joins text parts and takes data: URL images', () => {
    const call = chatCall({
      model: 'm',
      messages: [
        user([
          { type: 'text', text: 'What is' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'low' } },
          { type: 'text', text: 'this?' },
        ]),
      ],
    });

    expect(call.input.messages).toEqual([{ role: 'user', content: 'What is\nthis?', images: [PNG] }]);
  });

  it('passes tools in Hive shape and ignores tool_choice and fields it does not use', () => {
    const tool = {
      type: 'function',
      function: { name: 'weather', description: 'Weather now', parameters: { type: 'object' }, strict: true },
    };

    const call = chatCall({
      model: 'm',
      messages: [user('Hi')],
      tools: [tool],
      tool_choice: 'auto',
      user: 'u-1',
      metadata: { a: '1' },
      store: false,
      n: 1,
    });

    expect(call.input).toEqual({
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object' } } },
      ],
      options: {},
    });
  });

  it.each([
    { why: 'n other than 1', body: { n: 2 }, param: 'n' },
    { why: 'log probabilities', body: { logprobs: true }, param: 'logprobs' },
    { why: 'no model', body: { model: undefined }, param: 'model' },
    { why: 'an empty model', body: { model: '' }, param: 'model' },
    { why: 'no messages', body: { messages: [] }, param: 'messages' },
    {
      why: 'a role Hive does not know',
      body: { messages: [{ role: 'robot', content: 'x' }] },
      param: 'messages.0.role',
    },
    { why: 'a temperature out of range', body: { temperature: 3 }, param: 'temperature' },
    { why: 'more than 4 stop sequences', body: { stop: ['1', '2', '3', '4', '5'] }, param: 'stop' },
    {
      why: 'a response_format type it does not know',
      body: { response_format: { type: 'xml' } },
      param: 'response_format.type',
    },
    {
      why: 'an image that is not a data: URL',
      body: { messages: [user([{ type: 'image_url', image_url: { url: 'https://example.test/cat.png' } }])] },
      param: 'messages.0.content.0.image_url',
    },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => chatCall({ model: 'm', messages: [user('Hi')], ...body }))).toMatchObject({
      status: 400,
      param,
    });
  });

  it('names a field it does not know by its path, in the message and as param', () => {
    const body = { model: 'm', messages: [user([{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }])] };

    expect(refusalOf(() => chatCall(body))).toEqual({
      status: 400,
      param: 'messages.0.content.0.cache_control',
      message: 'property messages.0.content.0.cache_control should not exist',
    });
  });
});

describe('completionCall (POST /v1/completions)', () => {
  it('a prompt with sampling fields becomes a generate input', () => {
    const call = completionCall({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
      max_tokens: 16,
      temperature: 0,
      stop: '\n',
      seed: 1,
      stream: true,
      stream_options: { include_usage: true },
      echo: false,
      best_of: 1,
      n: 1,
      suffix: null,
    });

    expect(call).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      stream: true,
      includeUsage: true,
      input: { prompt: 'Once upon a time', options: { num_predict: 16, temperature: 0, stop: ['\n'], seed: 1 } },
    });
  });

  it('takes a list of exactly one prompt', () => {
    expect(completionCall({ model: 'm', prompt: ['Hello'] }).input).toEqual({ prompt: 'Hello', options: {} });
  });

  it.each([
    { why: 'a suffix', body: { suffix: 'end' }, param: 'suffix' },
    { why: 'echo', body: { echo: true }, param: 'echo' },
    { why: 'best_of other than 1', body: { best_of: 3 }, param: 'best_of' },
    { why: 'n other than 1', body: { n: 2 }, param: 'n' },
    { why: 'log probabilities', body: { logprobs: 5 }, param: 'logprobs' },
    { why: 'two prompts', body: { prompt: ['a', 'b'] }, param: 'prompt' },
    { why: 'an empty prompt', body: { prompt: '' }, param: 'prompt' },
    { why: 'no prompt', body: { prompt: undefined }, param: 'prompt' },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => completionCall({ model: 'm', prompt: 'Hi', ...body }))).toMatchObject({
      status: 400,
      param,
    });
  });
});

describe('embeddingCall (POST /v1/embeddings)', () => {
  it.each([
    { input: 'one text', encoding_format: undefined, base64: false },
    { input: ['a', 'b'], encoding_format: 'float', base64: false },
    { input: ['a'], encoding_format: 'base64', base64: true },
    { input: 'x', encoding_format: null, base64: false },
  ])('$input with encoding_format $encoding_format', ({ input, encoding_format, base64 }) => {
    expect(embeddingCall({ model: 'text-embedding-3-small', input, encoding_format, user: 'u' })).toEqual({
      model: 'text-embedding-3-small',
      stream: false,
      includeUsage: false,
      input: { input },
      base64,
    });
  });

  it.each([
    { why: 'dimensions', body: { dimensions: 256 }, param: 'dimensions' },
    { why: 'an encoding it does not know', body: { encoding_format: 'int8' }, param: 'encoding_format' },
    { why: 'an empty list', body: { input: [] }, param: 'input' },
    { why: 'no input', body: { input: undefined }, param: 'input' },
  ])('refuses $why with a 400 naming $param', ({ body, param }) => {
    expect(refusalOf(() => embeddingCall({ model: 'm', input: 'x', ...body }))).toMatchObject({ status: 400, param });
  });
});
