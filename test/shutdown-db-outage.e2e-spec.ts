import { startProxiedHiveFixture } from './support/hive-fixture.js';
import { message } from './support/process-control.js';

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

  it('exits while the database hangs, each wait on it bounded, leaving the task to be requeued', async () => {
    const { api, agents, db, hive, proxy, close } = await startProxiedHiveFixture({
      SHUTDOWN_GRACE_MS: '1000',
      TASK_LEASE_MS: '600000',
      // No statement timeout, so no client-side one either: only shutdown's own bounds end its waits on the database.
      DB_STATEMENT_TIMEOUT_MS: '0',
    });
    try {
      const agent = await agents.start({ behavior: { kind: 'hang' } });
      await api.registerAgent({ id: 'hanging', endpoint: agent.url, specialty: 'hanging' });
      const task = await api.submitTask({ type: 'hanging', context: { prompt: 'never answered' } });
      await agent.waitForRequests(1);

      proxy.setMode('hang'); // every connection stalls: the release at the end of the drain never gets an answer
      await hive.close(); // a close that waited on the database would never end (the test's timeout says so)

      // Read past the proxy, which still holds the release: let through, it would requeue the task after all.
      const [row] = await db.query<{ status: string; lease_owner: string | null }>(
        'SELECT status, lease_owner FROM tasks WHERE id = $1',
        [task.id],
      );
      expect(row).toEqual({ status: 'in_progress', lease_owner: hive.config.replicaId });
      expect(hive.logs.lines.map(message)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^1 task\(s\) could not be handed back within \d+ ms/),
          expect.stringMatching(/^Database connections still busy after \d+ ms/),
        ]),
      );
    } finally {
      await close();
    }
  });
});
