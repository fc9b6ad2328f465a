import type { components } from './generated/hive-api.js';
import type { NewTask } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import type { AgentProtocol, AgentToolCall } from './support/ollama-agent.js';
import { answerOf, ResponseContract, type Method } from './support/openapi-contract.js';
import { TEST_ADMIN_KEY } from './support/test-keys.js';

type ChatMessages = components['schemas']['ChatInput']['messages'];

const CALLS: AgentToolCall[] = [
  { name: 'get_weather', arguments: { city: 'Lyon', days: 2, units: { temp: 'C' } } },
  { name: 'get_time', arguments: {} },
];
const TOOLS: components['schemas']['ChatInput']['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
  { type: 'function', function: { name: 'get_time', description: 'The time now' } },
];
const MESSAGES: ChatMessages = [
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
  { role: 'user', content: 'And Lyon, and the time?' },
];

/**
 * The answers for tasks of every operation, on agents of both protocols, validate against the OpenAPI document the
 * server serves: chat results with tool calls, embeddings, the stored inputs, and agents with their models and key.
 */
describe('task results and agents of both protocols match the served OpenAPI document', () => {
  const world = suiteFixture({ HIVE_SECRET_KEY: 'hive-test-secret-key-0123456789-abcdefghij' });
  let contract: ResponseContract;
  const tasks: Record<string, string> = {};

  const check = async (method: Method, template: string, path: string) => {
    const res = await fetch(`${world().hive.url}${path}`, { headers: { 'x-api-key': TEST_ADMIN_KEY } });
    const answer = await answerOf(res);
    expect({ path, status: answer.status }).toEqual({ path, status: 200 });
    contract.check(method, template, answer);
    return answer.body;
  };

  beforeAll(async () => {
    const { api, agents, hive } = world();
    contract = await ResponseContract.load(hive.url);
    for (const kind of ['ollama', 'openai'] as AgentProtocol[]) {
      const model = kind === 'ollama' ? 'llama3.1:8b' : 'acme/tools-7b';
      const toolsAgent = await agents.start({
        protocol: kind,
        models: [model],
        behavior: { kind: 'ok', toolCalls: CALLS },
      });
      const embedder = await agents.start({ protocol: kind, models: [`${kind}-embed:latest`] });
      await api.registerAgent({
        id: `tools-${kind}`,
        kind,
        endpoint: toolsAgent.url,
        specialty: 'tools',
        model,
        api_key: 'sk-contract-0123',
      });
      await api.registerAgent({
        id: `embed-${kind}`,
        kind,
        endpoint: embedder.url,
        specialty: 'embed',
        model: `${kind}-embed:latest`,
      });
      const submissions: Record<string, NewTask> = {
        [`chat-${kind}`]: { model, operation: 'chat', input: { messages: MESSAGES, tools: TOOLS, format: 'json' } },
        [`embed-${kind}`]: {
          model: `${kind}-embed:latest`,
          operation: 'embed',
          input: { input: ['one', 'two words'] },
        },
      };
      for (const [name, task] of Object.entries(submissions)) tasks[name] = (await api.submitTask(task)).id;
    }
    for (const id of Object.values(tasks)) await api.waitForTask(id, 'completed');
  });

  it.each(['ollama', 'openai'])('GET /api/tasks/:id of a completed chat with tool calls (%s agent)', async (kind) => {
    const body = (await check('get', '/api/tasks/{id}', `/api/tasks/${tasks[`chat-${kind}`]}`)) as {
      result: { message: { tool_calls: unknown[] }; done_reason: string };
    };
    expect(body.result.message.tool_calls).toHaveLength(CALLS.length);
    expect(body.result.done_reason).toBe('tool_calls');
  });

  it.each(['ollama', 'openai'])('GET /api/tasks/:id of a completed embed of two inputs (%s agent)', async (kind) => {
    const body = (await check('get', '/api/tasks/{id}', `/api/tasks/${tasks[`embed-${kind}`]}`)) as {
      result: { embeddings: number[][] };
    };
    expect(body.result.embeddings).toHaveLength(2);
  });

  it('GET /api/tasks listing them all', async () => {
    const body = (await check('get', '/api/tasks', '/api/tasks?status=completed&limit=10')) as { filtered: number };
    expect(body.filtered).toBe(Object.keys(tasks).length);
  });

  it.each(['ollama', 'openai'])('GET /api/agents/:id of a probed agent with an API key (%s)', async (kind) => {
    await world().api.waitForModels(`tools-${kind}`);
    const body = (await check('get', '/api/agents/{id}', `/api/agents/tools-${kind}`)) as { has_api_key: boolean };
    expect(body.has_api_key).toBe(true);
    await check('get', '/api/agents', '/api/agents');
  });
});
