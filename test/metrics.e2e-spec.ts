import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TEST_ADMIN_KEY } from './support/test-keys.js';
import { DataSource } from 'typeorm';
import { Sql } from '@hive/database';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { startOllamaAgent, type OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';
import { scrape } from './support/scrape.js';
import { byLabel, parseSamples, sampleValue, type Sample } from './support/prometheus-text.js';
import { promtool } from './support/prometheus-tools.js';

describe('GET /api/metrics (in process)', () => {
  let db: TestDatabase;
  let agent: OllamaAgent;
  let hive: RunningHive;
  const samplesNow = async (): Promise<Sample[]> => parseSamples(await scrape(hive.url));

  beforeAll(async () => {
    db = await createTestDatabase();
    agent = await startOllamaAgent();
    hive = await startHive({ DATABASE_URL: db.url, DB_POOL_SIZE: '3', DB_POOL_MAX_OVERFLOW: '2' });
    // Written directly until the suite runs the real flow. The in-progress tasks belong to another replica with a
    // live lease, and no online agent serves 'translation', so the dispatcher leaves every row as it is.
    await db.query(
      `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, enabled)
       VALUES ('coder', $1, 'llama3:8b', 'code', 3, true), ('writer', $1, 'llama3:8b', 'writing', 1, false)`,
      [agent.url],
    );
    await db.query(
      `INSERT INTO tasks (type, priority, status, assigned_agent, lease_owner, lease_expires_at, started_at, completed_at)
       VALUES ('code', 3, 'in_progress', 'coder', 'other-replica', now() + interval '1 hour', now(), NULL),
              ('code', 3, 'in_progress', 'coder', 'other-replica', now() + interval '1 hour', now(), NULL),
              ('translation', 2, 'pending', NULL, NULL, NULL, NULL, NULL),
              ('code', 3, 'completed', 'coder', NULL, NULL, now(), now()),
              ('code', 3, 'completed', 'coder', NULL, NULL, now(), now()),
              ('code', 3, 'completed', 'coder', NULL, NULL, now(), now()),
              ('code', 3, 'failed', 'coder', NULL, NULL, now(), now())`,
    );
  });
  afterAll(async () => {
    await hive.close();
    await agent.close();
    await db.drop();
  });

  it('reports tasks by state, agents and the pool from the database', async () => {
    const samples = await samplesNow();
    expect(byLabel(samples, 'hive_tasks', 'state')).toEqual({
      pending: 1,
      in_progress: 2,
      completed: 3,
      failed: 1,
      cancelled: 0,
    });
    expect(byLabel(samples, 'hive_agent_up', 'agent')).toEqual({ coder: 1, writer: 0 });
    expect(byLabel(samples, 'hive_agent_inflight', 'agent')).toEqual({ coder: 2, writer: 0 });
    expect(byLabel(samples, 'hive_agent_capacity', 'agent')).toEqual({ coder: 3, writer: 1 });

    expect(sampleValue(samples, 'hive_db_pool_max')).toBe(5);
    const pool = byLabel(samples, 'hive_db_pool_connections', 'state');
    expect(Object.keys(pool).sort()).toEqual(['idle', 'total', 'waiting']);
    expect(pool.total).toBeGreaterThanOrEqual(1);
    expect(pool.total).toBeLessThanOrEqual(5);
    expect(pool.idle).toBeLessThanOrEqual(pool.total ?? 0);
    expect(sampleValue(samples, 'hive_ready')).toBe(1);
  });

  it('drops the series of a deleted agent', async () => {
    // An agent of this test's own, so the fleet the other tests read stays as beforeAll wrote it.
    const names = ['hive_agent_up', 'hive_agent_inflight', 'hive_agent_capacity'];
    const agentsIn = (samples: Sample[]) => names.map((name) => Object.keys(byLabel(samples, name, 'agent')).sort());
    await db.query(
      `INSERT INTO agents (id, endpoint, model, specialty, max_concurrent, enabled)
       VALUES ('retired', $1, 'llama3:8b', 'retiring', 1, false)`,
      [agent.url],
    );
    // The database-derived series are cached for 5 s: wait for a read that has the agent, then for one without.
    await waitUntil(async () => 'retired' in byLabel(await samplesNow(), 'hive_agent_up', 'agent'), {
      describe: 'the retired series to appear',
      timeoutMs: 15_000,
    });
    expect(agentsIn(await samplesNow())).toEqual(names.map(() => ['coder', 'retired', 'writer']));

    await db.query(`DELETE FROM agents WHERE id = 'retired'`);
    await waitUntil(async () => !('retired' in byLabel(await samplesNow(), 'hive_agent_up', 'agent')), {
      describe: 'the retired series to disappear',
      timeoutMs: 15_000,
    });
    expect(agentsIn(await samplesNow())).toEqual(names.map(() => ['coder', 'writer']));
  });

  it("counts failed SQL statements, the stores' and TypeORM's own", async () => {
    const before = sampleValue(await samplesNow(), 'hive_db_query_errors_total') ?? Number.NaN;
    await expect(hive.app.get(Sql).rows('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    await expect(hive.app.get(DataSource).query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    expect(sampleValue(await samplesNow(), 'hive_db_query_errors_total')).toBeGreaterThanOrEqual(before + 2);
  });

  it('times HTTP requests by route template, unmatched routes under one label, never /api/metrics', async () => {
    // Counted from before this test's requests, so what other tests requested does not matter.
    const countsNow = async () => (await samplesNow()).filter((s) => s.name === 'http_request_duration_seconds_count');
    const before = await countsNow();
    await request(hive.url).get(`/api/tasks/${randomUUID()}`).set('x-api-key', TEST_ADMIN_KEY).expect(404);
    await request(hive.url).get(`/no/such/${randomUUID()}`).expect(404);
    await request(hive.url).get('/health').expect(200);
    await scrape(hive.url);
    const counts = await countsNow();
    const count = (method: string, route: string, status: string) =>
      (sampleValue(counts, 'http_request_duration_seconds_count', { method, route, status }) ?? 0) -
      (sampleValue(before, 'http_request_duration_seconds_count', { method, route, status }) ?? 0);
    expect(count('GET', '/api/tasks/:id', '404')).toBe(1);
    expect(count('GET', 'unmatched', '404')).toBe(1);
    expect(count('GET', '/health', '200')).toBeGreaterThanOrEqual(1);
    const routes = new Set(counts.map((s) => s.labels.route));
    expect(routes).not.toContain('/api/metrics');
    expect([...routes].filter((r) => r?.includes('no/such'))).toEqual([]);
  });

  it('passes promtool check metrics', async () => {
    const text = await scrape(hive.url);
    expect(text).toContain('# HELP hive_tasks ');
    expect(promtool(['check', 'metrics'], text)).toEqual({ status: 0, output: '' });
  });
});
