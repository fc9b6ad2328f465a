import { startProxiedHiveFixture } from './support/hive-fixture.js';
import { waitUntil } from './support/poll.js';

/** A gate an agent's answer waits on: the test opens it when it wants the answer to arrive. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Hive reaches PostgreSQL through a TCP proxy the test switches: a database restart must not throw away an agent's
 * finished work. (One Hive per file: its log is read.)
 */
describe('results written through a database outage (in-process Hive behind a TCP proxy, real agents)', () => {
  it('keeps results and failures that arrive while PostgreSQL is unreachable, and stores them once it is back', async () => {
    const { api, agents, hive, proxy, close } = await startProxiedHiveFixture({
      DB_CONNECT_TIMEOUT_MS: '1000',
      // Long enough that no lease runs out during the outage: only a lost lease may make a task run again.
      TASK_LEASE_MS: '30000',
    });
    try {
      const answers = gate();
      const good = await agents.start({ behavior: { kind: 'ok', gate: answers.promise } });
      const bad = await agents.start({
        behavior: { kind: 'error', status: 400, message: 'invalid options', gate: answers.promise },
      });
      await api.registerAgent({ id: 'answers', endpoint: good.url, specialty: 'outage-ok' });
      await api.registerAgent({ id: 'refuses', endpoint: bad.url, specialty: 'outage-bad' });
      const done = await api.submitTask({ type: 'outage-ok', context: { prompt: 'long work' } });
      const refused = await api.submitTask({ type: 'outage-bad', context: { prompt: 'bad options' } });
      await good.waitForRequests(1);
      await bad.waitForRequests(1);

      // The database goes away (its connections reset, new ones refused) just as both agents answer.
      proxy.setMode('refuse');
      answers.open();
      await waitUntil(() => hive.logs.text().includes('result(s) failed, the database is unreachable'), {
        describe: 'the result write to fail for want of the database',
      });
      proxy.setMode('forward');

      await expect(api.waitForTask(done.id, 'completed')).resolves.toMatchObject({
        attempts: 1,
        result: { response: 'echo: long work' },
      });
      await expect(api.waitForTask(refused.id, 'failed')).resolves.toMatchObject({
        attempts: 1,
        error: 'agent refuses: HTTP 400: invalid options',
      });
      expect(good.requests).toHaveLength(1);
      expect(bad.requests).toHaveLength(1);
      expect(hive.logs.text()).toContain('Storing results works again');
    } finally {
      await close();
    }
  });
});
