import { MAX_EMBED_INPUTS } from './input-schemas.js';
import { inputJsonSchemas, parseTaskInput } from './task-input.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUg==';

/** The problems parseTaskInput finds, or a failed expectation when it accepts the input. */
function errorsOf(...args: Parameters<typeof parseTaskInput>): string[] {
  const check = parseTaskInput(...args);
  if ('errors' in check) return check.errors;
  throw new Error(`expected ${JSON.stringify(args[1])} to be refused`);
}

describe('parseTaskInput: generate', () => {
  it('accepts a prompt with its system prompt, images and tuning, as it is', () => {
    const input = {
      prompt: 'What is this?',
      system: 'Be brief.',
      images: [PNG],
      format: { type: 'object' },
      options: { temperature: 0 },
      keep_alive: '1h30m',
    };
    expect(parseTaskInput('generate', input)).toEqual({ input });
    expect(parseTaskInput('generate', { prompt: 'Hi', format: 'json', keep_alive: -1 })).toEqual({
      input: { prompt: 'Hi', format: 'json', keep_alive: -1 },
    });
  });

  it('names the field of each problem by its full path', () => {
    expect(errorsOf('generate', {})).toEqual(['input.prompt is required']);
    expect(errorsOf('generate', { prompt: '' })).toEqual(['input.prompt must not be empty']);
    expect(errorsOf('generate', { prompt: 5 })).toEqual(['input.prompt must be a string']);
    expect(errorsOf('generate', { prompt: 'Hi', images: ['not base64!'] })).toEqual([
      'input.images.0 must be base64-encoded',
    ]);
    expect(errorsOf('generate', { prompt: 'Hi', images: PNG })).toEqual(['input.images must be a list']);
  });

  it('refuses fields it does not know, naming each', () => {
    expect(errorsOf('generate', { prompt: 'Hi', foo: 1, stream: true })).toEqual([
      'property input.foo should not exist',
      'property input.stream should not exist',
    ]);
  });

  it('says what format, options and keep_alive must be', () => {
    expect(errorsOf('generate', { prompt: 'Hi', format: 'xml' })).toEqual([
      'input.format must be "json" or a JSON schema (an object)',
    ]);
    expect(errorsOf('generate', { prompt: 'Hi', options: [1] })).toEqual(['input.options must be an object']);
    for (const keep_alive of ['soon', true]) {
      expect(errorsOf('generate', { prompt: 'Hi', keep_alive })).toEqual([
        'input.keep_alive must be a duration such as "5m" or a number of seconds',
      ]);
    }
  });

  it('refuses an input that is not an object, and words the path with the prefix it is given', () => {
    expect(errorsOf('generate', null)).toEqual(['input must be an object']);
    expect(errorsOf('generate', 'Hi')).toEqual(['input must be an object']);
    expect(errorsOf('generate', {}, 'body')).toEqual(['body.prompt is required']);
  });

  it('reports every problem at once', () => {
    expect(errorsOf('generate', { prompt: '', system: 1, extra: true })).toEqual([
      'input.prompt must not be empty',
      'input.system must be a string',
      'property input.extra should not exist',
    ]);
  });
});

describe('parseTaskInput: chat', () => {
  it('accepts Ollama-shaped messages as they are', () => {
    const input = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is this?', images: [PNG] },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'describe', arguments: { detail: 'low' } } }],
        },
        { role: 'tool', content: 'a cat', tool_name: 'describe' },
      ],
      tools: [{ type: 'function', function: { name: 'describe', parameters: { type: 'object' } } }],
      options: { num_ctx: 8192 },
    };
    expect(parseTaskInput('chat', input)).toEqual({
      input: {
        ...input,
        messages: [
          input.messages[0],
          input.messages[1],
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'call_2_0', type: 'function', function: { name: 'describe', arguments: { detail: 'low' } } },
            ],
          },
          input.messages[3],
        ],
      },
    });
  });

  it('normalises OpenAI-shaped messages: parts to text and images, developer to system, arguments to objects', () => {
    const input = {
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'low' } },
            { type: 'image_url', image_url: `data:image/jpeg;base64,${PNG}` },
            { type: 'text', text: 'One word.' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', content: '18 C', tool_call_id: 'call_abc', name: 'get_weather' },
        { role: 'user', name: 'ann' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', strict: true } }],
    };
    expect(parseTaskInput('chat', input)).toEqual({
      input: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What is this?\nOne word.', images: [PNG, PNG] },
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } },
            ],
          },
          { role: 'tool', content: '18 C', tool_call_id: 'call_abc', tool_name: 'get_weather' },
          { role: 'user', content: '' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather' } }],
      },
    });
  });

  it('names the message and field of each problem', () => {
    expect(
      errorsOf('chat', {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'bot', content: 'Hi' },
        ],
      }),
    ).toEqual(['input.messages.1.role must be "system" or "user" or "assistant" or "tool" or "developer"']);
    expect(errorsOf('chat', { messages: [{ role: 'user', content: 5 }] })).toEqual([
      'input.messages.0.content must be a string or a list of text and image_url parts',
    ]);
    expect(errorsOf('chat', { messages: [{ role: 'user', content: [{ type: 'audio' }] }] })).toEqual([
      'input.messages.0.content must be a string or a list of text and image_url parts',
    ]);
    expect(errorsOf('chat', { messages: [{ role: 'user', content: 'Hi', extra: 1 }] })).toEqual([
      'property input.messages.0.extra should not exist',
    ]);
  });

  it('needs at least one message, in a list', () => {
    expect(errorsOf('chat', {})).toEqual(['input.messages is required']);
    expect(errorsOf('chat', { messages: [] })).toEqual(['input.messages must have at least 1 item(s)']);
    expect(errorsOf('chat', { messages: 'Hi' })).toEqual(['input.messages must be a list']);
  });

  it('refuses image URLs that are not base64 data: URLs, since Hive does not fetch images', () => {
    for (const image_url of [
      'https://example.com/cat.png',
      { url: 'http://example.com/cat.png' },
      'data:image/png,raw',
    ]) {
      expect(
        errorsOf('chat', {
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Hi' },
                { type: 'image_url', image_url },
              ],
            },
          ],
        }),
      ).toEqual([
        'input.messages.0.content.1.image_url must be a data: URL with base64 content (Hive does not fetch images)',
      ]);
    }
  });

  it('refuses tool-call arguments that are not a JSON object, and tool names OpenAI would not take', () => {
    const withCall = (fn: Record<string, unknown>) => ({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '', tool_calls: [{ function: fn }] },
      ],
    });
    for (const args of ['not json', '[1]', 'null', 5]) {
      expect(errorsOf('chat', withCall({ name: 'f', arguments: args }))).toEqual([
        'input.messages.1.tool_calls.0.function.arguments must be an object or a JSON-encoded object',
      ]);
    }
    expect(errorsOf('chat', withCall({ name: 'get weather', arguments: {} }))).toEqual([
      'input.messages.1.tool_calls.0.function.name must be 1–64 letters, digits, _ or -',
    ]);
    expect(errorsOf('chat', withCall({ name: 'f', arguments: {}, strict: true }))).toEqual([
      'property input.messages.1.tool_calls.0.function.strict should not exist',
    ]);
  });

  it("wants a tool call's index whole", () => {
    const call = { index: 1.5, function: { name: 'f', arguments: {} } };
    expect(errorsOf('chat', { messages: [{ role: 'assistant', content: '', tool_calls: [call] }] })).toEqual([
      'input.messages.0.tool_calls.0.index must be an integer',
    ]);
  });

  it('names the tool of each problem in the tools', () => {
    const input = {
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        { type: 'function', function: { name: 'ok' } },
        { type: 'function', function: { name: 'f', parameters: 'any' } },
      ],
    };
    expect(errorsOf('chat', input)).toEqual(['input.tools.1.function.parameters must be an object']);
  });
});

describe('parseTaskInput: embed', () => {
  it('accepts a string or a list of strings, with options and keep_alive', () => {
    expect(parseTaskInput('embed', { input: 'Bees' })).toEqual({ input: { input: 'Bees' } });
    const input = { input: ['Bees', 'Honey'], options: { num_ctx: 512 }, keep_alive: 0 };
    expect(parseTaskInput('embed', input)).toEqual({ input });
  });

  it('refuses empty text, an empty list, empty items and more inputs than the limit', () => {
    expect(errorsOf('embed', { input: '' })).toEqual(['input.input must not be empty']);
    expect(errorsOf('embed', { input: [] })).toEqual(['input.input must have at least 1 item(s)']);
    expect(errorsOf('embed', { input: ['Bees', ''] })).toEqual(['input.input.1 must not be empty']);
    const union = `input.input must be a non-empty string or a list of 1–${MAX_EMBED_INPUTS} non-empty strings`;
    expect(errorsOf('embed', { input: Array<string>(MAX_EMBED_INPUTS + 1).fill('a') })).toEqual([union]);
    expect(errorsOf('embed', { input: 5 })).toEqual([union]);
    expect(parseTaskInput('embed', { input: Array<string>(MAX_EMBED_INPUTS).fill('a') })).not.toHaveProperty('errors');
  });

  it('refuses the fields of the other operations', () => {
    expect(errorsOf('embed', { input: 'Bees', format: 'json' })).toEqual(['property input.format should not exist']);
  });
});

describe('inputJsonSchemas', () => {
  it("gives each operation's input as a JSON schema of an object, refusing unknown fields", () => {
    const schemas = inputJsonSchemas();
    expect(Object.keys(schemas)).toEqual(['GenerateInput', 'ChatInput', 'EmbedInput']);
    for (const schema of Object.values(schemas)) {
      expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    }
    expect(schemas.GenerateInput).toMatchObject({ required: ['prompt'] });
    expect(schemas.ChatInput).toMatchObject({ required: ['messages'] });
    expect(schemas.EmbedInput).toMatchObject({ required: ['input'] });
  });

  it('describes what clients send, OpenAI shapes included', () => {
    const chat = JSON.stringify(inputJsonSchemas().ChatInput);
    expect(chat).toContain('"developer"');
    expect(chat).toContain('"image_url"');
  });
});
