import request from 'supertest';
import { TEST_ADMIN_KEY } from './support/test-keys.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';

describe('GET /api/health (in process)', () => {
  let db: TestDatabase;
  let agent: OllamaAgent;
  let hive: RunningHive;

  beforeAll(async () => {
    db = await createTestDatabase();
    agent = await startOllamaAgent();
    hive = await startHive({ DATABASE_URL: db.url });
    // A working coder, and a disabled writer (offline): rows written directly, as an operator's registry would hold.
    await db.query(
      `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, enabled)
       VALUES ('coder', $1, 'llama3:8b', 'code', 2, true), ('writer', $1, 'llama3:8b', 'writing', 1, false)`,
      [agent.url],
    );
  });
  afterAll(async () => {
    await hive.close();
    await agent.close();
    await db.drop();
  });

  it('is healthy with every component while the offline agent has nothing waiting for it', async () => {
    const res = await request(hive.url).get('/api/health').set('x-api-key', TEST_ADMIN_KEY).expect(200);
    expect(res.body).toEqual({
      status: 'healthy',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown,
      uptime: expect.any(Number) as unknown,
      components: {
        api: { status: 'healthy' },
        database: {
          status: 'healthy',
          response_ms: expect.any(Number) as unknown,
          pool: { total: expect.any(Number) as unknown, idle: expect.any(Number) as unknown, waiting: 0 },
        },
        coordinator: {
          status: 'healthy',
          replica_id: hive.config.replicaId,
          phase: 'running',
          running_tasks: 0,
          last_tick: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        },
        agents: {
          status: 'healthy',
          total: 2,
          available: 1,
          busy: 0,
          offline: 1,
          details: { coder: 'available', writer: 'offline' },
        },
      },
    });
  });

  it('is degraded (503) when a task type has pending tasks and no online agent, naming the type', async () => {
    const backlog = await db.query<{ id: string }>(
      `INSERT INTO tasks (type, priority, status) VALUES ('writing', 3, 'pending'), ('writing', 1, 'pending')
       RETURNING id`,
    );
    try {
      const res = await request(hive.url).get('/api/health').set('x-api-key', TEST_ADMIN_KEY).expect(503);
      expect(res.body).toMatchObject({
        status: 'degraded',
        components: {
          database: { status: 'healthy' },
          coordinator: { status: 'healthy' },
          agents: { status: 'degraded', error: 'no online agent for task type writing (2 pending)', offline: 1 },
        },
      });
    } finally {
      // The backlog is this test's alone: the other tests see the fleet as beforeAll left it.
      await db.query(`DELETE FROM tasks WHERE id = ANY($1::uuid[])`, [backlog.map((t) => t.id)]);
    }
  });

  it('needs no API key on any probe', async () => {
    await request(hive.url).get('/health').expect(200);
    await request(hive.url).get('/health/ready').expect(200);
    await request(hive.url).get('/api/metrics').expect(200);
  });
});
