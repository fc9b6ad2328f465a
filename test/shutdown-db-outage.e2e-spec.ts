import { startProxiedHiveFixture } from './support/hive-fixture.js';

/**
 * A replica told to stop while PostgreSQL is unreachable keeps trying to store a result only until its drain ends
 * (SHUTDOWN_GRACE_MS), not for as long as the lease lasts: Kubernetes would kill it before then.
 */
describe('shutdown while the database is unreachable (in-process Hive behind a TCP proxy, real agent)', () => {
  it('gives up writing at the end of the drain and closes, leaving the task to be requeued', async () => {
    const { api, agents, db, hive, proxy, close } = await startProxiedHiveFixture({
      DB_CONNECT_TIMEOUT_MS: '500',
      SHUTDOWN_GRACE_MS: '1500',
      // Far beyond the test's own timeout: a close that waited for the lease would never finish in time.
      TASK_LEASE_MS: '600000',
    });
    try {
      let answer = (): void => undefined;
      const gate = new Promise<void>((resolve) => (answer = resolve));
      const agent = await agents.start({ behavior: { kind: 'ok', gate } });
      await api.registerAgent({ id: 'stopping', endpoint: agent.url, specialty: 'stopping' });
      const task = await api.submitTask({ type: 'stopping', context: { prompt: 'unrecordable' } });
      await agent.waitForRequests(1);

      proxy.setMode('refuse');
      const closing = hive.close();
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
      await close();
    }
  });
});
