import { HiveApi } from './support/api.js';
import { AgentFleet, closeAll, FAST_COORDINATOR_ENV } from './support/hive-fixture.js';
import { startHive } from './support/hive-app.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { createTestDatabase } from './support/test-database.js';

/**
 * A replica told to stop while PostgreSQL is unreachable keeps trying to store a result only until its drain ends
 * (SHUTDOWN_GRACE_MS), not for as long as the lease lasts: Kubernetes would kill it before then.
 */
describe('shutdown while the database is unreachable (in-process Hive behind a TCP proxy, real agent)', () => {
  it('gives up writing at the end of the drain and closes, leaving the task to be requeued', async () => {
    const db = await createTestDatabase();
    const server = new URL(db.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const agents = new AgentFleet();
    const hive = await startHive({
      ...FAST_COORDINATOR_ENV,
      DATABASE_URL: proxy.rewrite(db.url),
      DB_CONNECT_TIMEOUT_MS: '500',
      SHUTDOWN_GRACE_MS: '1500',
      // Far beyond the test's own timeout: a close that waited for the lease would never finish in time.
      TASK_LEASE_MS: '600000',
    });
    let closed = false;
    try {
      const api = new HiveApi(hive.url);
      let answer = (): void => undefined;
      const gate = new Promise<void>((resolve) => (answer = resolve));
      const agent = await agents.start({ behavior: { kind: 'ok', gate } });
      await api.registerAgent({ id: 'stopping', endpoint: agent.url, specialty: 'stopping' });
      const task = await api.submitTask({ type: 'stopping', context: { prompt: 'unrecordable' } });
      await agent.waitForRequests(1);

      proxy.setMode('refuse');
      const closing = hive.close().then(() => (closed = true));
      answer(); // the result arrives during the drain, with nowhere to go
      await closing;

      proxy.setMode('forward');
      const [row] = await db.query<{ status: string; lease_owner: string | null }>(
        'SELECT status, lease_owner FROM tasks WHERE id = $1',
        [task.id],
      );
      // Still leased to the stopped replica: the reaper of any replica requeues it once the lease expires.
      expect(row).toEqual({ status: 'in_progress', lease_owner: hive.config.replicaId });
      expect(agent.requests).toHaveLength(1);
    } finally {
      proxy.setMode('forward');
      await closeAll([
        () => (closed ? undefined : hive.close()),
        () => agents.closeAll(),
        () => proxy.close(),
        () => db.drop(),
      ]);
    }
  });
});
