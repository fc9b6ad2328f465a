import { openStoreWorld, type StoreWorld } from '../../../../test/support/store-fixture.js';
import { statement } from './statement.js';

const INSERT = statement(
  'spec.sql.insert',
  `INSERT INTO sql_spec (name, tags, doc, n) VALUES ($1, $2::text[], $3::jsonb, $4) RETURNING name, tags, doc, n`,
);
const COUNT = statement('spec.sql.count', `SELECT count(*)::int AS n FROM sql_spec`);

/**
 * Sql.transaction's round-trip savers on a real PostgreSQL: opening statements sent with BEGIN, and a last
 * statement sent with COMMIT, its parameters written as literals (docs/architecture.md, "Claiming").
 */
describe('Sql.transaction', () => {
  let world: StoreWorld;

  beforeAll(async () => {
    world = await openStoreWorld();
    await world.sql(`CREATE TABLE sql_spec (name text PRIMARY KEY, tags text[], doc jsonb, n int)`);
  });
  afterAll(() => world.close());
  beforeEach(() => world.sql(`DELETE FROM sql_spec`));

  it('commits with its last statement, whose parameters reach PostgreSQL as they were given', async () => {
    const awkward = ["it's", 'back\\slash', 'quote"d', 'ünï', '', 'comma,brace}'];
    const [rows] = await world.runner.transaction((tx) =>
      tx.rowsThenCommit({
        statement: INSERT,
        params: ['a\\b\'c"', awkward, JSON.stringify({ say: 'it\'s \\ "so"' }), 7],
      }),
    );
    const expected = { name: 'a\\b\'c"', tags: awkward, doc: { say: 'it\'s \\ "so"' }, n: 7 };
    expect(rows).toEqual([expected]);
    await expect(world.sql(`SELECT name, tags, doc, n FROM sql_spec`)).resolves.toEqual([expected]);
  });

  it('writes empty arrays and nulls', async () => {
    const [rows] = await world.runner.transaction((tx) =>
      tx.rowsThenCommit({ statement: INSERT, params: ['empty', [], null, null] }),
    );
    expect(rows).toEqual([{ name: 'empty', tags: [], doc: null, n: null }]);
  });

  it('runs the same statements again and again on the pool’s connections (each prepared once per connection)', async () => {
    for (let i = 0; i < 12; i++) {
      const [opened] = await world.runner.transaction(
        async (tx, [counted]) => {
          await tx.rowsThenCommit({ statement: INSERT, params: [`row ${i}`, [String(i)], null, i] });
          return [counted];
        },
        { opening: [COUNT], durable: i % 2 === 0, genericPlans: i % 3 === 0 },
      );
      expect(opened).toEqual([{ n: i }]);
    }
    await expect(world.sql(`SELECT count(*)::int AS n FROM sql_spec`)).resolves.toEqual([{ n: 12 }]);
  });

  it('applies its settings to itself only', async () => {
    const SETTINGS = `SELECT current_setting('synchronous_commit') AS commit, current_setting('plan_cache_mode') AS plans,
                             current_setting('enable_bitmapscan') AS bitmaps`;
    const inside = await world.runner.transaction((tx) => tx.rows(SETTINGS), {
      durable: false,
      genericPlans: true,
      noBitmapScans: true,
    });
    expect(inside).toEqual([{ commit: 'off', plans: 'force_generic_plan', bitmaps: 'off' }]);
    // Every connection of the pool is back to the server's settings.
    const after = await Promise.all(
      Array.from({ length: 4 }, () => world.runner.transaction((tx) => tx.rows(SETTINGS))),
    );
    for (const rows of after) expect(rows).toEqual([{ commit: 'on', plans: 'auto', bitmaps: 'on' }]);
  });

  it('rolls back the whole transaction when its last statement fails, and the connection serves on', async () => {
    await world.sql(`INSERT INTO sql_spec (name) VALUES ('taken')`);
    await expect(
      world.runner.transaction(async (tx) => {
        await tx.rows(INSERT, ['first', null, null, 1]);
        return tx.rowsThenCommit({ statement: INSERT, params: ['taken', null, null, 2] });
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(world.sql(`SELECT name FROM sql_spec`)).resolves.toEqual([{ name: 'taken' }]);

    const results = await world.runner.transaction((tx) =>
      tx.rowsThenCommit({ statement: INSERT, params: ['after', null, null, 3] }, { statement: COUNT, params: [] }),
    );
    expect(results).toEqual([[{ name: 'after', tags: null, doc: null, n: 3 }], [{ n: 2 }]]);
  });

  it('runs one statement several times in the round trip that prepares it', async () => {
    const fresh = statement('spec.sql.insertAgain', `INSERT INTO sql_spec (name, n) VALUES ($1, $2) RETURNING name, n`);
    const results = await world.runner.transaction((tx) =>
      tx.rowsThenCommit({ statement: fresh, params: ['one', 1] }, { statement: fresh, params: ['two', 2] }),
    );
    expect(results).toEqual([[{ name: 'one', n: 1 }], [{ name: 'two', n: 2 }]]);
  });
});
