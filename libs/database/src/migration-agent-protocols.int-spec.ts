import { AgentProtocols1764979200000 } from '../../../migrations/1764979200000-agent-protocols.js';
import { openStoreWorld, type StoreWorld } from '../../../test/support/store-fixture.js';

/** The agent-protocols migration run again after an interruption, on a real PostgreSQL (its database migrated). */
describe('migration AgentProtocols1764979200000, run again', () => {
  let world: StoreWorld;

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  const indexes = () =>
    world.sql<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'tasks'::regclass AND c.relname IN ('tasks_route_idx', 'tasks_queue_idx') ORDER BY 1`,
    );

  async function runUp(): Promise<string> {
    const runner = world.dataSource.createQueryRunner();
    try {
      await new AgentProtocols1764979200000().up(runner);
      const [setting] = (await runner.query(`SHOW statement_timeout`)) as { statement_timeout: string }[];
      return setting?.statement_timeout ?? '';
    } finally {
      await runner.release();
    }
  }

  it('rebuilds a queue index a failed build left invalid, and drops the old index only then', async () => {
    // As a build cancelled half-way leaves it: the new index invalid, the old one still there.
    await world.sql(`CREATE INDEX tasks_queue_idx ON tasks (type, priority DESC, created_at) WHERE status = 'pending'`);
    await world.sql(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'tasks_route_idx'::regclass`);
    await expect(indexes()).resolves.toEqual([
      { name: 'tasks_queue_idx', valid: true },
      { name: 'tasks_route_idx', valid: false },
    ]);

    const timeoutAfter = await runUp();

    await expect(indexes()).resolves.toEqual([{ name: 'tasks_route_idx', valid: true }]);
    expect(timeoutAfter).toBe('30s'); // the runner's statement_timeout is back to Hive's (DB_STATEMENT_TIMEOUT_MS)
  });

  it('changes nothing when run over a finished migration, and its checks hold', async () => {
    await runUp();
    await expect(indexes()).resolves.toEqual([{ name: 'tasks_route_idx', valid: true }]);
    const checks = await world.sql<{ name: string; validated: boolean }>(
      `SELECT conname AS name, convalidated AS validated FROM pg_constraint
        WHERE conrelid = 'tasks'::regclass AND conname IN ('tasks_operation_check', 'tasks_route_check') ORDER BY 1`,
    );
    expect(checks).toEqual([
      { name: 'tasks_operation_check', validated: true },
      { name: 'tasks_route_check', validated: true },
    ]);
    await expect(world.sql(`INSERT INTO tasks (type, model, priority) VALUES ('', '', 3)`)).rejects.toMatchObject({
      code: '23514',
    }); // a task names a type, a model or both
  });
});
