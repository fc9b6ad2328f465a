/**
 * The PostgreSQL databases the benchmark creates on one server (and always drops): a template migrated once by
 * Hive's own migration CLI, and a fresh copy of it for every phase.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { databaseUrl, withAdminClient } from '../test/support/test-database.js';
import { ADMIN_API_KEY, ROOT } from './settings.js';

/** BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server: where the benchmark creates its databases. */
export function serverUrl(): string {
  return (
    process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

/** Everything created is dropped by `dropAll`, also after a failure. */
export class BenchDatabases {
  readonly prefix = `hive_bench_${randomBytes(4).toString('hex')}`;
  private readonly created: string[] = [];
  private template: string | undefined;
  private readonly server: string;

  constructor(server: string) {
    this.server = server;
  }

  async prepareTemplate(): Promise<void> {
    const name = `${this.prefix}_tpl`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.created.push(name);
    await promisify(execFile)(
      process.execPath,
      [
        resolve(ROOT, 'node_modules/typeorm/cli.js'),
        'migration:run',
        '-d',
        resolve(ROOT, 'dist/migrations/data-source.js'),
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: databaseUrl(this.server, name),
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          HIVE_ADMIN_API_KEY: ADMIN_API_KEY,
        },
      },
    );
    this.template = name;
  }

  /** A fresh, migrated, empty database; returns its URL. */
  async create(label: string): Promise<{ name: string; url: string }> {
    if (this.template === undefined) throw new Error('prepareTemplate() first');
    const name = `${this.prefix}_${label}`;
    await this.admin(`CREATE DATABASE ${name} TEMPLATE ${this.template}`);
    this.created.push(name);
    return { name, url: databaseUrl(this.server, name) };
  }

  async drop(name: string): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const at = this.created.indexOf(name);
    if (at >= 0) this.created.splice(at, 1);
  }

  async dropAll(): Promise<void> {
    for (const name of [...this.created].reverse()) {
      await this.drop(name).catch((error: unknown) =>
        console.error(`could not drop database ${name}: ${String(error)}`),
      );
    }
  }

  private async admin(sql: string): Promise<void> {
    await withAdminClient(this.server, (c) => c.query(sql));
  }
}
