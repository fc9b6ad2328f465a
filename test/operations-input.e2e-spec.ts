import { messages } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';

/** How a submission's `input` is checked against its operation: every problem named by its field, nothing stored. */
describe('operations: task input validation (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture();

  beforeAll(async () => {
    const agent = await world().agents.start();
    await world().api.registerAgent({ id: 'inputs-1', endpoint: agent.url, specialty: 'inputs' });
  });

  it.each([
    {
      what: 'a chat message with an unknown role',
      task: { operation: 'chat', input: { messages: [{ role: 'robot', content: 'hi' }] } },
      problem: 'input.messages.0.role must be "system" or "user" or "assistant" or "tool" or "developer"',
    },
    {
      what: 'a chat without messages',
      task: { operation: 'chat', input: { messages: [] } },
      problem: 'input.messages must have at least 1 item(s)',
    },
    {
      what: 'a chat input sent as a generate (the default operation)',
      task: { input: { messages: [{ role: 'user', content: 'hi' }] } },
      problem: 'input.prompt is required; property input.messages should not exist',
    },
    {
      what: 'tool-call arguments that are not a JSON object',
      task: {
        operation: 'chat',
        input: {
          messages: [
            { role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: '[1, 2]' } }] },
          ],
        },
      },
      problem: 'input.messages.0.tool_calls.0.function.arguments must be an object or a JSON-encoded object',
    },
    {
      what: 'an image given by a URL Hive would have to fetch',
      task: {
        operation: 'chat',
        input: {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
          ],
        },
      },
      problem:
        'input.messages.0.content.0.image_url must be a data: URL with base64 content (Hive does not fetch images)',
    },
    {
      what: 'an embed of an empty list',
      task: { operation: 'embed', input: { input: [] } },
      problem: 'input.input must have at least 1 item(s)',
    },
    {
      what: 'a field the operation does not know',
      task: { operation: 'embed', input: { input: 'x', temperature: 0 } },
      problem: 'property input.temperature should not exist',
    },
    {
      what: 'a keep_alive that is no duration, however long',
      task: { input: { prompt: 'hi', keep_alive: `${'1'.repeat(100_000)}x` } },
      problem: 'input.keep_alive must be a duration such as "5m" or a number of seconds',
    },
    {
      what: 'a keep_alive that is no duration',
      task: { input: { prompt: 'hi', keep_alive: '1h30' } },
      problem: 'input.keep_alive must be a duration such as "5m" or a number of seconds',
    },
    {
      what: 'a format that is neither "json" nor a schema',
      task: { input: { prompt: 'hi', format: 'yaml' } },
      problem: 'input.format must be "json" or a JSON schema (an object)',
    },
  ])('refuses $what with 400 naming the field', async ({ task, problem }) => {
    const { api } = world();
    const before = (await api.listTasks()).total;
    const res = await api.request('POST', '/api/tasks', { type: 'inputs', ...task });

    expect({ status: res.status, messages: messages(res.body) }).toEqual({ status: 400, messages: [problem] });
    await expect(api.listTasks()).resolves.toMatchObject({ total: before });
  });

  it.each([
    ['a null model and no type', { model: null, context: { prompt: 'hi' } }, 'type or model must be given'],
    ['a null model beside a type', { type: 'inputs', model: null }, 'model must be a model name'],
    ['a null operation', { type: 'inputs', operation: null }, 'operation must be one of generate, chat, embed'],
  ])('refuses %s with 400, storing nothing', async (_what, task, problem) => {
    const { api } = world();
    const before = (await api.listTasks()).total;
    const res = await api.request('POST', '/api/tasks', task);

    expect(res.status).toBe(400);
    expect(messages(res.body).join('; ')).toContain(problem);
    await expect(api.listTasks()).resolves.toMatchObject({ total: before });
  });

  it('refuses a task that names only a model and gives neither input nor context', async () => {
    const res = await world().api.request('POST', '/api/tasks', { model: 'llama3:8b' });

    expect(res.status).toBe(400);
    expect(messages(res.body)).toEqual(['input must be given: the task names no type and its context is empty']);
  });

  it('refuses a batch for the bad input of one task, naming its position, and stores none', async () => {
    const { api } = world();
    const before = (await api.listTasks()).total;
    const res = await api.request('POST', '/api/tasks/batch', {
      tasks: [
        { type: 'inputs', operation: 'embed', input: { input: ['fine'] } },
        { type: 'inputs', operation: 'chat', input: { messages: [{ role: 'user', content: 'fine' }] } },
        { type: 'inputs', operation: 'chat', input: { messages: [{ role: 'user', content: 42 }] } },
      ],
    });

    expect(res.status).toBe(400);
    expect(messages(res.body)).toEqual([
      'tasks.2.input.messages.0.content must be a string or a list of text and image_url parts',
    ]);
    await expect(api.listTasks()).resolves.toMatchObject({ total: before });
  });
});
