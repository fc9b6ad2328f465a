import pg from 'pg';
import { closeAll, startHiveFixture } from './support/hive-fixture.js';
import { waitUntil } from './support/poll.js';

const CLAIM_FAILED = 'Claiming tasks failed';
const CLAIM_PAUSE_MS = 1_000;

/**
 * A claim that fails (here: the tasks table is gone) pauses the dispatcher: the wake-ups that keep coming must not
 * make it retry, and log, every few milliseconds. (One Hive per file: its log is read.)
 */
describe('dispatch when claiming fails (in-process Hive, real PostgreSQL, real agent)', () => {
  it('pauses claiming for a second after each failed claim, however many wake-ups arrive, and recovers', async () => {
    const fx = await startHiveFixture();
    const notifier = new pg.Client({ connectionString: fx.db.url });
    await notifier.connect();
    try {
      const agent = await fx.agents.start();
      await fx.api.registerAgent({ id: 'claimer', endpoint: agent.url, specialty: 'broken' });
      // The claim reads the tasks table after locking the agents: without it, every claim fails.
      await fx.db.query('ALTER TABLE tasks RENAME TO tasks_away');
      const failedAt = () =>
        fx.hive.logs.lines.filter((l) => String(l.msg).startsWith(CLAIM_FAILED)).map((l) => Number(l.time));

      // Wake-ups every 10 ms, as a busy cluster would send them, while three claims fail.
      let flooding = true;
      const flood = (async () => {
        while (flooding) {
          await notifier.query(`SELECT pg_notify('hive_wake', '')`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await waitUntil(() => failedAt().length >= 3, {
        describe: 'three failed claims',
        timeoutMs: 15_000,
        state: failedAt,
      });
      flooding = false;
      await flood;

      const [first = NaN, second = NaN, third = NaN] = failedAt();
      // Timers may fire a millisecond before Date.now() says the pause is over.
      expect(second - first).toBeGreaterThanOrEqual(CLAIM_PAUSE_MS - 5);
      expect(third - second).toBeGreaterThanOrEqual(CLAIM_PAUSE_MS - 5);

      await fx.db.query('ALTER TABLE tasks_away RENAME TO tasks');
      const task = await fx.api.submitTask({ type: 'broken', context: { prompt: 'after the repair' } });
      await expect(fx.api.waitForTask(task.id, 'completed')).resolves.toMatchObject({ attempts: 1 });
    } finally {
      await closeAll([() => notifier.end(), () => fx.close()]);
    }
  });
});
