import request from 'supertest';
import { TEST_ADMIN_KEY } from './support/test-keys.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitUntil } from './support/poll.js';
import { scrape } from './support/scrape.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';

const HEALTH_TIMEOUT_MS = 1_000;

/**
 * Hive reaches PostgreSQL through a TCP proxy the test switches, so the database becomes unreachable for this app
 * only (the shared server keeps running for the other suites).
 */
describe('probes while PostgreSQL is unreachable (in process, behind a TCP proxy)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let hive: RunningHive;

  /** A probe must answer in about HEALTH_CHECK_TIMEOUT_MS whatever the database does; 3x is the hard bound. */
  const probe = (path: string) =>
    request(hive.url)
      .get(path)
      .set('x-api-key', TEST_ADMIN_KEY)
      .timeout(3 * HEALTH_TIMEOUT_MS);
  const readyIs = (status: number) => async () => (await probe('/health/ready')).status === status;

  beforeAll(async () => {
    db = await createTestDatabase();
    const server = new URL(db.url);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    hive = await startHive({
      DATABASE_URL: proxy.rewrite(db.url),
      HEALTH_CHECK_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
      DB_CONNECT_TIMEOUT_MS: '1000',
      DB_POOL_SIZE: '2',
    });
    await waitUntil(readyIs(200), { describe: 'readiness 200 at start' });
  });
  // Every test starts from a reachable database and a ready Hive, whichever test ran before it.
  beforeEach(async () => {
    proxy.setMode('forward');
    await waitUntil(readyIs(200), { describe: 'readiness 200 before the test', timeoutMs: 30_000 });
  });
  afterAll(async () => {
    proxy.setMode('forward');
    await hive.close();
    await proxy.close();
    await db.drop();
  });

  it('keeps liveness 200 and reports the database on readiness, /api/health and /api/metrics when it refuses connections', async () => {
    proxy.setMode('refuse');
    await waitUntil(readyIs(503), { describe: 'readiness 503' });

    await probe('/health').expect(200, { status: 'ok' });
    const ready = await probe('/health/ready').expect(503);
    expect(ready.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    expect(Object.keys((ready.body as { error: object }).error)).toEqual(['database']);

    const report = await probe('/api/health').expect(503);
    expect(report.body).toMatchObject({
      status: 'unhealthy',
      components: {
        api: { status: 'healthy' },
        database: { status: 'unhealthy', error: expect.any(String) as unknown, pool: expect.any(Object) as unknown },
      },
    });

    // The scrape still succeeds: not ready, database-derived series left out, the failed read counted.
    const samples = parseSamples(await scrape(hive.url));
    expect(sampleValue(samples, 'hive_ready')).toBe(0);
    expect(samples.filter((s) => s.name === 'hive_tasks')).toEqual([]);
    expect(sampleValue(samples, 'hive_metrics_db_read_failures_total')).toBeGreaterThanOrEqual(1);
  });

  it('turns readiness back to 200 once PostgreSQL is reachable again, without a restart', async () => {
    proxy.setMode('refuse');
    await waitUntil(readyIs(503), { describe: 'readiness 503 during the outage' });

    proxy.setMode('forward');
    const back = performance.now();
    await waitUntil(readyIs(200), { describe: 'readiness 200 after the outage', timeoutMs: 30_000 });
    console.log(
      `readiness back to 200 ${Math.round(performance.now() - back)} ms after PostgreSQL became reachable again`,
    );
    const report = await probe('/api/health').expect(200);
    expect(report.body).toMatchObject({ status: 'healthy', components: { database: { status: 'healthy' } } });
  });

  it('answers within the health-check timeout while the database hangs, then recovers', async () => {
    proxy.setMode('hang');

    await probe('/health').expect(200, { status: 'ok' });
    const ready = await probe('/health/ready').expect(503);
    expect(ready.body).toMatchObject({
      error: { database: { status: 'down', message: expect.stringMatching(/timeout/i) as unknown } },
    });
    const report = await probe('/api/health').expect(503);
    expect(report.body).toMatchObject({
      status: 'unhealthy',
      components: { database: { status: 'unhealthy', error: expect.stringMatching(/timeout/i) as unknown } },
    });
    await probe('/api/metrics').expect(200);

    proxy.setMode('forward');
    await waitUntil(readyIs(200), { describe: 'readiness 200 after the hang', timeoutMs: 30_000 });
  });
});
