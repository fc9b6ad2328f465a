import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { hiveTestServer?: { url: string; embedded?: { stop(): Promise<void> } } })
    .hiveTestServer;
  const template = process.env.HIVE_TEST_TEMPLATE_DB;
  if (server === undefined || template === undefined) return;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).finally(() => client.end());
  await server.embedded?.stop();
}
