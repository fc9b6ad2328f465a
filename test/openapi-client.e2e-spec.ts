import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import createClient, { type Middleware } from 'openapi-fetch';
import type { OpenAPIV3 } from 'openapi-types';
import type { components, paths } from './generated/hive-api.js';
import { answerOf, ResponseContract, type Method } from './support/openapi-contract.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { TEST_ADMIN_KEY } from './support/test-keys.js';

type Task = components['schemas']['TaskResponse'];

/**
 * The client's types say what a call may send and get; this checks at run time that every answer really is what
 * the committed openapi.json (the client's source) declares, so a wrong path or field fails the call, not only tsc.
 */
function checkedAgainst(contract: ResponseContract): Middleware {
  return {
    async onResponse({ request, response, schemaPath }) {
      contract.check(request.method.toLowerCase() as Method, schemaPath, await answerOf(response.clone()));
    },
  };
}

describe('the typed client generated from openapi.json drives Hive end to end', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  let agent: OllamaAgent;
  let contract: ResponseContract;

  const client = (headers: Record<string, string>) => {
    const c = createClient<paths>({ baseUrl: hive.url, headers });
    c.use(checkedAgainst(contract));
    return c;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    agent = await startOllamaAgent();
    hive = await startHive({ DATABASE_URL: db.url });
    const committed = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../openapi.json'), 'utf8'),
    ) as OpenAPIV3.Document;
    contract = await ResponseContract.of(committed);
  });
  afterAll(async () => {
    await hive.close();
    await agent.close();
    await db.drop();
  });

  it('an admin makes an operator key and an agent; the operator submits tasks, reads them completed and the status', async () => {
    const admin = client({ 'X-API-Key': TEST_ADMIN_KEY });
    const created = await admin.POST('/api/keys', { body: { name: 'client test operator', role: 'operator' } });
    expect(created.response.status).toBe(201);
    const operatorKey = created.data?.key ?? '';
    expect(created.data).toMatchObject({
      name: 'client test operator',
      role: 'operator',
      revoked_at: null,
      expires_at: null,
    });
    expect(operatorKey).toMatch(/^hive_/);
    // The operator authenticates with the other scheme the document offers: the key as a bearer token.
    const operator = client({ Authorization: `Bearer ${operatorKey}` });

    const registered = await admin.POST('/api/agents', {
      body: { id: 'coder-1', endpoint: agent.url, model: 'llama3:8b', specialty: 'code', max_concurrent: 2 },
    });
    expect([registered.response.status, registered.data]).toEqual([
      201,
      { status: 'success', message: 'Agent coder-1 registered', agent_id: 'coder-1' },
    ]);
    const refused = await operator.POST('/api/agents', {
      body: { id: 'coder-2', endpoint: agent.url, model: 'm', specialty: 'code' },
    });
    expect([refused.response.status, refused.error?.error]).toEqual([403, 'Forbidden']);

    const prompts = ['one', 'two', 'three'];
    const submitted: string[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const { data, response } = await operator.POST('/api/tasks', {
        body: { type: 'code', priority: i + 3, context: { prompt } },
      });
      expect([response.status, data?.status, data?.priority, data?.context]).toEqual([
        201,
        'pending',
        i + 3,
        { prompt },
      ]);
      submitted.push(data?.id ?? '');
    }

    const completed: Task[] = [];
    for (const id of submitted) {
      const read = async () => (await operator.GET('/api/tasks/{id}', { params: { path: { id } } })).data;
      const task = await pollUntil(read, (t) => t?.status === 'completed', { describe: `task ${id} to be completed` });
      if (task !== undefined) completed.push(task);
    }
    expect(completed.map((t) => [t.id, t.assigned_agent, t.attempts, t.error])).toEqual(
      submitted.map((id) => [id, 'coder-1', 1, null]),
    );
    for (const task of completed) {
      expect(typeof task.result?.response).toBe('string');
      expect(Date.parse(task.completed_at ?? '')).toBeGreaterThanOrEqual(Date.parse(task.created_at));
    }
    expect(agent.requests.map((r) => r.prompt).sort()).toEqual([...prompts].sort());

    const listed = await operator.GET('/api/tasks', {
      params: { query: { type: 'code', status: 'completed', limit: 10 } },
    });
    expect([listed.data?.total, listed.data?.filtered]).toEqual([3, 3]);
    expect(listed.data?.tasks.map((t) => t.id).sort()).toEqual([...submitted].sort());

    const status = await operator.GET('/api/status');
    expect(status.data?.tasks).toEqual({ total: 3, pending: 0, in_progress: 0, completed: 3, failed: 0, cancelled: 0 });
    expect(status.data?.agents).toMatchObject({ total: 1, offline: 0, details: [{ id: 'coder-1', current_tasks: 0 }] });
    expect(status.data?.system.status).toBe('running');

    // Every answer above went through the runtime check, failures included.
    expect([...contract.checked].sort()).toEqual(
      expect.arrayContaining([
        'POST /api/keys 201',
        'POST /api/agents 201',
        'POST /api/agents 403',
        'POST /api/tasks 201',
        'GET /api/tasks/{id} 200',
        'GET /api/tasks 200',
        'GET /api/status 200',
      ]),
    );
  });
});
