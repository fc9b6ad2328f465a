import pg from 'pg';
import { startTcpProxy, type TcpProxy } from '../../../../test/support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { isDatabaseUnavailable } from '../support/transient-error.js';
import { queryOn } from './query-on.js';

/** queryOn against a real PostgreSQL behind a proxy that can make the network stall. */
describe('queryOn', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
    const { hostname, port } = new URL(database.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
    pool = new pg.Pool({ connectionString: proxy.rewrite(database.url), max: 2 });
  });
  afterAll(async () => {
    proxy.setMode('forward');
    await pool.end();
    await proxy.close();
    await database.drop();
  });

  it('answers with the rows, and an error as PostgreSQL gave it', async () => {
    const client = await pool.connect();
    try {
      const { rows } = await queryOn<{ n: number }>(client, { text: 'SELECT $1::int AS n', values: [7] }, 5_000);
      expect(rows).toEqual([{ n: 7 }]);
      await expect(queryOn(client, 'SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    } finally {
      client.release();
    }
  });

  it('rejects with a read timeout when no answer comes in time, and the connection can be given up on', async () => {
    const client = await pool.connect();
    proxy.setMode('hang');
    const error = await queryOn(client, 'SELECT 1', 200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Query read timeout');
    // What tells Sql and withConnection's callers to close the connection rather than reuse it.
    expect(isDatabaseUnavailable(error)).toBe(true);
    client.release(error as Error);
    proxy.setMode('forward');
    // The pool closed the stalled connection: a new one answers.
    const fresh = await pool.connect();
    try {
      await expect(queryOn(fresh, 'SELECT 2 AS n', 5_000)).resolves.toMatchObject({ rows: [{ n: 2 }] });
    } finally {
      fresh.release();
    }
  });
});
