import type { ChatMessage, ToolCall } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { imageType, openAiMessages, openAiRequest, responseFormat, samplingFields } from './openai-requests.js';

/** The first bytes of real files, base64-encoded. */
const PNG = 'iVBORw0KGgoAAAANSUhEUg==';
const JPEG = '/9j/4AAQSkZJRgABAQ==';
const GIF = 'R0lGODlhAQABAIAAAP==';
const WEBP = 'UklGRiQAAABXRUJQVlA4IA==';

const weatherCall = (id: string, city: string): ToolCall => ({
  id,
  type: 'function',
  function: { name: 'get_weather', arguments: { city } },
});

describe('imageType', () => {
  it('tells PNG, JPEG, GIF and WebP from their first bytes, PNG when unknown', () => {
    expect([PNG, JPEG, GIF, WEBP, 'AAAA'].map(imageType)).toEqual([
      'image/png',
      'image/jpeg',
      'image/gif',
      'image/webp',
      'image/png',
    ]);
  });
});

describe('openAiMessages', () => {
  it('sends text messages as they are', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(openAiMessages(messages)).toStrictEqual(messages);
  });

  it('sends images as image_url parts with data: URLs of the right media type, after the text', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Which is which?', images: [JPEG, PNG] },
      { role: 'user', content: '', images: [WEBP] },
    ];
    expect(openAiMessages(messages)).toStrictEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Which is which?' },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG}` } },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/webp;base64,${WEBP}` } }] },
    ]);
  });

  it('sends tool-call arguments as JSON text, and no content beside the calls of an assistant that said nothing', () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          weatherCall('call_1', 'Paris'),
          { id: 'call_2', type: 'function', function: { name: 'f', arguments: 'raw text' } },
        ],
      },
      { role: 'assistant', content: 'Checking.', tool_calls: [weatherCall('call_3', 'Rome')] },
    ];
    expect(openAiMessages(messages)).toStrictEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'f', arguments: 'raw text' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_3', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
    ]);
  });

  it("links a tool answer named by its tool (Ollama's link) to the earliest call of that name not yet answered", () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: '',
        tool_calls: [weatherCall('call_p', 'Paris'), weatherCall('call_r', 'Rome')],
      },
      { role: 'tool', content: '18 C', tool_name: 'get_weather' },
      { role: 'tool', content: '21 C', tool_name: 'get_weather' },
      { role: 'tool', content: '?', tool_name: 'get_weather' },
    ];
    expect(openAiMessages(messages).map((m) => m.tool_call_id)).toEqual([undefined, 'call_p', 'call_r', 'call_3']);
  });

  it('keeps the tool_call_id a tool answer gives, and takes that call as answered', () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: '',
        tool_calls: [weatherCall('call_p', 'Paris'), weatherCall('call_r', 'Rome')],
      },
      { role: 'tool', content: '21 C', tool_call_id: 'call_r', tool_name: 'get_weather' },
      { role: 'tool', content: '18 C', tool_name: 'get_weather' },
    ];
    expect(openAiMessages(messages).slice(1)).toStrictEqual([
      { role: 'tool', content: '21 C', tool_call_id: 'call_r' },
      { role: 'tool', content: '18 C', tool_call_id: 'call_p' },
    ]);
  });

  it('links only tool answers', () => {
    expect(openAiMessages([{ role: 'user', content: 'Hi', tool_call_id: 'call_1', tool_name: 'f' }])).toStrictEqual([
      { role: 'user', content: 'Hi' },
    ]);
  });
});

describe('responseFormat', () => {
  it('asks for a JSON object for "json", and for the schema of a JSON schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    expect(responseFormat(undefined)).toBeUndefined();
    expect(responseFormat('json')).toEqual({ type: 'json_object' });
    expect(responseFormat(schema)).toEqual({ type: 'json_schema', json_schema: { name: 'response', schema } });
  });
});

describe('samplingFields', () => {
  it("keeps the options both protocols name alike, num_predict as max_tokens, and drops Ollama's own", () => {
    const options = {
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: ['\n'],
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      num_predict: 128,
      num_ctx: 8192,
      top_k: 40,
    };
    expect(samplingFields(options)).toStrictEqual({
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: ['\n'],
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      max_tokens: 128,
    });
  });

  it("drops num_predict when it means no limit (Ollama's -1) or is not a number", () => {
    expect(samplingFields({ num_predict: -1 })).toStrictEqual({});
    expect(samplingFields({ num_predict: '64' })).toStrictEqual({});
    expect(samplingFields({ num_predict: 0 })).toStrictEqual({ max_tokens: 0 });
    expect(samplingFields(undefined)).toStrictEqual({});
  });
});

describe('openAiRequest', () => {
  it('posts a chat to /v1/chat/completions with its messages, tools, response format and sampling', () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const call: AgentCall = {
      operation: 'chat',
      model: 'Qwen/Qwen3-8B',
      input: {
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
        format: 'json',
        options: { temperature: 0, num_predict: 100, num_ctx: 4096 },
        keep_alive: '5m',
      },
    };
    expect(openAiRequest(call, false)).toStrictEqual({
      path: '/v1/chat/completions',
      body: {
        model: 'Qwen/Qwen3-8B',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
        response_format: { type: 'json_object' },
        temperature: 0,
        max_tokens: 100,
      },
    });
  });

  it('asks a streamed answer to end with its usage', () => {
    const call: AgentCall = { operation: 'chat', model: 'm', input: { messages: [{ role: 'user', content: 'Hi' }] } };
    expect(openAiRequest(call, true).body).toStrictEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('runs a generate as a chat: its system prompt, then its prompt and images as the user message', () => {
    const call: AgentCall = {
      operation: 'generate',
      model: 'm',
      input: { prompt: 'What is this?', system: 'Be brief.', images: [JPEG], options: { seed: 1 } },
    };
    expect(openAiRequest(call, false)).toStrictEqual({
      path: '/v1/chat/completions',
      body: {
        model: 'm',
        messages: [
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG}` } },
            ],
          },
        ],
        seed: 1,
      },
    });
    const bare: AgentCall = { operation: 'generate', model: 'm', input: { prompt: 'Hi' } };
    expect(openAiRequest(bare, false).body).toStrictEqual({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('posts an embed to /v1/embeddings for float vectors, never streamed', () => {
    const call: AgentCall = {
      operation: 'embed',
      model: 'text-embedding-3-small',
      input: { input: ['a', 'b'], options: { temperature: 0 }, keep_alive: '5m' },
    };
    expect(openAiRequest(call, true)).toStrictEqual({
      path: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' },
    });
  });
});
