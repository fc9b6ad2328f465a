import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Set by the jest global setup: a server Hive's tests may create databases on, and a migrated template. */
function testServer(): { adminUrl: string; template: string } {
  const adminUrl = process.env.HIVE_TEST_ADMIN_URL;
  const template = process.env.HIVE_TEST_TEMPLATE_DB;
  if (adminUrl === undefined || template === undefined) {
    throw new Error('HIVE_TEST_ADMIN_URL is not set: run the tests through jest (its global setup provides it)');
  }
  return { adminUrl, template };
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdminClient<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Runs SQL on this database with a short-lived client. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * A database of its own for one suite: a copy of the migrated template (fast), or an empty one when the suite
 * tests migrations itself. Suites never share rows, so they can run in parallel.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const { adminUrl, template } = testServer();
  const name = `hive_t_${randomBytes(5).toString('hex')}`;
  await withAdminClient(adminUrl, (c) =>
    c.query(options.empty === true ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`),
  );
  const url = databaseUrl(adminUrl, name);
  return {
    name,
    url,
    query: <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      withAdminClient(url, async (c) => (await c.query<R>(sql, params)).rows),
    drop: () =>
      withAdminClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
