import request from 'supertest';
import { TEST_ADMIN_KEY } from './support/test-keys.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';

describe('tasks: happy path', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  let agent: OllamaAgent;

  beforeAll(async () => {
    db = await createTestDatabase();
    agent = await startOllamaAgent();
    hive = await startHive({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await hive.close();
    await agent.close();
    await db.drop();
  });

  it('runs a submitted task on the agent and stores the result', async () => {
    await request(hive.url)
      .post('/api/agents')
      .set('x-api-key', TEST_ADMIN_KEY)
      .send({ id: 'coder-1', endpoint: agent.url, model: 'llama3:8b', specialty: 'code' })
      .expect(201, { status: 'success', message: 'Agent coder-1 registered', agent_id: 'coder-1' });
    const created = await request(hive.url)
      .post('/api/tasks')
      .set('x-api-key', TEST_ADMIN_KEY)
      .send({ type: 'code', priority: 4, context: { prompt: 'write hello world' } })
      .expect(201);
    const id = (created.body as { id: string }).id;
    await agent.waitForRequests(1);
    const readTask = async (): Promise<Record<string, unknown>> => {
      const res = await request(hive.url).get(`/api/tasks/${id}`).set('x-api-key', TEST_ADMIN_KEY).expect(200);
      return res.body as Record<string, unknown>;
    };
    const task = await pollUntil(readTask, (t) => t.status !== 'pending' && t.status !== 'in_progress', {
      describe: `task ${id} to finish`,
    });
    expect(task).toMatchObject({ status: 'completed', assigned_agent: 'coder-1', attempts: 1 });
    expect(task.result).toMatchObject({ response: 'echo: write hello world', done_reason: 'stop', model: 'llama3:8b' });
    expect(agent.requests[0]).toMatchObject({ model: 'llama3:8b', prompt: 'write hello world', stream: false });
    const status = await request(hive.url).get('/api/status').set('x-api-key', TEST_ADMIN_KEY).expect(200);
    expect(status.body).toMatchObject({ tasks: { total: 1, completed: 1 }, agents: { total: 1, available: 1 } });
  });
});
