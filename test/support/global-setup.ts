/**
 * Jest global setup. It is loaded by Node itself (not through jest's module mapper), so it imports only packages
 * and the production build (`npm test` builds first), never the TypeScript sources.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = resolve(import.meta.dirname, '../..');

interface Embedded {
  start(): Promise<string>;
  stop(): Promise<void>;
}
type EmbeddedClass = new (dataDir: string, logger: { log(m: string): void; warn(m: string): void }) => Embedded;

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** TEST_DATABASE_URL when set, else the local server when it answers, else an embedded PostgreSQL. */
async function findServer(): Promise<{ url: string; embedded?: Embedded }> {
  const explicit = process.env.TEST_DATABASE_URL;
  if (explicit !== undefined && explicit !== '') return { url: explicit };
  const local = await admin(LOCAL_SERVER, 'SELECT 1').then(
    () => true,
    () => false,
  );
  if (local) return { url: LOCAL_SERVER };
  const modulePath = join(ROOT, 'dist/libs/database/src/embedded-postgres.js');
  const { EmbeddedPostgres } = (await import(modulePath)) as { EmbeddedPostgres: EmbeddedClass };
  const quiet = { log: () => undefined, warn: (m: string) => process.stderr.write(`${m}\n`) };
  const embedded = new EmbeddedPostgres(await mkdtemp(join(tmpdir(), 'hive-test-pg-')), quiet);
  return { url: await embedded.start(), embedded };
}

export default async function globalSetup(): Promise<void> {
  const server = await findServer();
  const template = `hive_tpl_${process.pid}`;
  await admin(server.url, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin(server.url, `CREATE DATABASE ${template}`);
  const templateUrl = new URL(server.url);
  templateUrl.pathname = `/${template}`;
  // The template is migrated by the migration CLI a user runs (npm run migration:run), so the CLI is tested too.
  try {
    await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', join(ROOT, 'dist/migrations/data-source.js')],
      { env: { ...process.env, DATABASE_URL: templateUrl.toString(), NODE_ENV: 'test' } },
    );
  } catch (error) {
    // No teardown runs after a failed setup: leave no template database and no server behind.
    await admin(server.url, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    await server.embedded?.stop();
    throw error;
  }

  process.env.HIVE_TEST_ADMIN_URL = server.url;
  process.env.HIVE_TEST_TEMPLATE_DB = template;
  (globalThis as { hiveTestServer?: typeof server }).hiveTestServer = server;
}
