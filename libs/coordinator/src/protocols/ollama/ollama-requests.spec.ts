import type { ChatMessage, Tool } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { ollamaMessages, ollamaRequest } from './ollama-requests.js';

const weatherCall = (id: string, city: string) => ({
  id,
  type: 'function' as const,
  function: { name: 'get_weather', arguments: { city } },
});

describe('ollamaRequest', () => {
  it('posts a generate to /api/generate with every field it was given', () => {
    const call: AgentCall = {
      operation: 'generate',
      model: 'llama3:latest',
      input: {
        prompt: 'Why bees?',
        system: 'Be brief.',
        images: ['iVBORw0KGgo='],
        format: 'json',
        options: { temperature: 0, num_predict: 64 },
        keep_alive: '10m',
      },
    };
    expect(ollamaRequest(call, true)).toEqual({
      path: '/api/generate',
      body: {
        model: 'llama3:latest',
        prompt: 'Why bees?',
        system: 'Be brief.',
        images: ['iVBORw0KGgo='],
        format: 'json',
        options: { temperature: 0, num_predict: 64 },
        keep_alive: '10m',
        stream: true,
      },
    });
  });

  it('leaves out the fields that are not set, so that the agent applies its defaults, and says whether to stream', () => {
    const call: AgentCall = { operation: 'generate', model: 'llama3', input: { prompt: 'Hi', system: undefined } };
    const { body } = ollamaRequest(call, false);
    expect(body).toStrictEqual({ model: 'llama3', prompt: 'Hi', stream: false });
  });

  it('posts a chat to /api/chat with its messages, tools, format, options and keep-alive', () => {
    const tools: Tool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const call: AgentCall = {
      operation: 'chat',
      model: 'qwen3',
      input: {
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
        format: { type: 'object' },
        options: { seed: 1 },
        keep_alive: 0,
      },
    };
    expect(ollamaRequest(call, false)).toStrictEqual({
      path: '/api/chat',
      body: {
        model: 'qwen3',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
        format: { type: 'object' },
        options: { seed: 1 },
        keep_alive: 0,
        stream: false,
      },
    });
  });

  it('posts an embed to /api/embed, never streamed', () => {
    const call: AgentCall = {
      operation: 'embed',
      model: 'nomic-embed-text',
      input: { input: ['a', 'b'], keep_alive: '1m' },
    };
    expect(ollamaRequest(call, true)).toStrictEqual({
      path: '/api/embed',
      body: { model: 'nomic-embed-text', input: ['a', 'b'], keep_alive: '1m' },
    });
  });
});

describe('ollamaMessages', () => {
  it('sends tool calls with object arguments and no ids, text arguments as an empty object', () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          weatherCall('call_1', 'Paris'),
          { id: 'call_2', type: 'function', function: { name: 'f', arguments: 'not json' } },
        ],
      },
    ];
    expect(ollamaMessages(messages)).toStrictEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { function: { name: 'get_weather', arguments: { city: 'Paris' } } },
          { function: { name: 'f', arguments: {} } },
        ],
      },
    ]);
  });

  it('names the tool a tool answer answers, from the call its tool_call_id links it to', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Paris and Rome?', images: ['iVBORw0KGgo='] },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          weatherCall('call_p', 'Paris'),
          { ...weatherCall('call_t', 'Rome'), function: { name: 'get_time', arguments: {} } },
        ],
      },
      { role: 'tool', content: '12:00', tool_call_id: 'call_t' },
      { role: 'tool', content: '18 C', tool_call_id: 'call_p' },
      { role: 'tool', content: '?', tool_call_id: 'call_unknown' },
      { role: 'tool', content: 'named', tool_name: 'lookup', tool_call_id: 'call_p' },
    ];
    expect(ollamaMessages(messages)).toStrictEqual([
      { role: 'user', content: 'Weather in Paris and Rome?', images: ['iVBORw0KGgo='] },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { function: { name: 'get_weather', arguments: { city: 'Paris' } } },
          { function: { name: 'get_time', arguments: {} } },
        ],
      },
      { role: 'tool', content: '12:00', tool_name: 'get_time' },
      { role: 'tool', content: '18 C', tool_name: 'get_weather' },
      { role: 'tool', content: '?' },
      { role: 'tool', content: 'named', tool_name: 'lookup' },
    ]);
  });

  it('names a tool only on tool answers', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Hi', tool_name: 'f', tool_call_id: 'call_1' }];
    expect(ollamaMessages(messages)).toStrictEqual([{ role: 'user', content: 'Hi' }]);
  });
});
