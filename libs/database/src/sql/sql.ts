import { Injectable, Logger } from '@nestjs/common';
import type { PoolClient, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { readTimeoutMs } from '../data-source-options.js';
import { describeError } from '../support/describe-error.js';
import { isDatabaseUnavailable } from '../support/transient-error.js';
import { pgPoolOf, withConnection } from './pg-pool.js';
import { queryOn } from './query-on.js';
import { sqlLiteral } from './sql-literal.js';
import type { SqlRunner, StatementRun, TransactionRunner } from './sql-runner.js';
import type { Statement } from './statement.js';

/** A statement that took longer than this is logged (as TypeORM's maxQueryExecutionTime would). */
const SLOW_MS = 1_000;

/**
 * Failures that spoil the connection for later statements: it is lost or stuck, or a statement prepared on it no
 * longer fits the schema (0A000 "cached plan must not change result type" after a migration) or is unknown to the
 * server (26000). A new connection prepares its statements afresh.
 */
const SPOILS_CONNECTION = new Set(['0A000', '26000']);
const spoilsConnection = (error: unknown): boolean =>
  isDatabaseUnavailable(error) || SPOILS_CONNECTION.has(String((error as { code?: unknown } | null)?.code));

const shorten = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 300);

/** How a transaction begins: see Sql.transaction. */
export interface TransactionOptions {
  durable?: boolean;
  genericPlans?: boolean;
  noBitmapScans?: boolean;
  opening?: readonly Statement[];
}

/** The SQL name of a statement prepared with SQL PREPARE: apart from node-postgres' own prepared statements. */
const sqlName = (statement: Statement): string => `"sql.${statement.name}"`;

/**
 * The stores' way to PostgreSQL: statements on TypeORM's own pg pool, prepared by name (see Statement), with
 * transactions on one pooled connection. Failed statements are logged (never with their parameters: they may carry
 * task contexts) and reported to `onFailure` listeners (the metrics count them); a failure to get a connection is not
 * a statement's.
 */
@Injectable()
export class Sql implements SqlRunner {
  private readonly logger = new Logger('Database');
  private readonly failureListeners = new Set<() => void>();
  /** The statements prepared with SQL PREPARE on each connection (by name). */
  private readonly preparedOn = new WeakMap<PoolClient, Set<string>>();

  /** How long an answer is waited for (see readTimeoutMs). */
  private readonly readTimeoutMs: number | undefined;

  constructor(
    private readonly dataSource: DataSource,
    config: HiveConfig,
  ) {
    this.readTimeoutMs = readTimeoutMs(config.database);
  }

  async rows<T>(sql: Statement | string, params: readonly unknown[] = []): Promise<T[]> {
    return withConnection(this.pool(), (client) => this.execute<T>(client, sql, params), spoilsConnection);
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Options, all applied in
   * the round trip of BEGIN:
   * - `durable: false` commits without waiting for the WAL to reach the disk (synchronous_commit off): for a
   *   transaction whose loss in a crash of PostgreSQL is harmless, as a claim's (the task is then pending again);
   * - `genericPlans` runs the transaction's prepared statements on their generic plans (plan_cache_mode), for
   *   statements whose custom plans cost more to make than they save;
   * - `noBitmapScans` keeps the planner from bitmap scans (enable_bitmapscan), for statements that read an index
   *   whose rows change state all the time (the partial index of running tasks): a bitmap scan visits each of its
   *   dead entries in the table again until VACUUM removes them, where an index scan marks them dead the first time;
   * - `opening` statements (without parameters) run, each with a snapshot of its own taken after the one before
   *   ran, as separate statements would; `work` gets their rows. They are prepared on each connection the first
   *   time (SQL PREPARE, in that same round trip), so that PostgreSQL does not plan them on every run.
   * `work` may end the transaction with `rowsThenCommit`, which saves COMMIT its own round trip.
   */
  async transaction<T>(
    work: (tx: TransactionRunner, opened: unknown[][]) => Promise<T>,
    { durable = true, genericPlans = false, noBitmapScans = false, opening = [] }: TransactionOptions = {},
  ): Promise<T> {
    let discard = false;
    return withConnection(
      this.pool(),
      async (client) => {
        try {
          const opened = await this.open(client, { durable, genericPlans, noBitmapScans, opening }).catch(
            (error: unknown) => {
              // Statements prepared before the failure stay on the connection: the next PREPARE of them would fail.
              discard = !this.isPrepared(client, opening);
              throw error;
            },
          );
          let committed = false;
          const tx: TransactionRunner = {
            rows: (sql, params = []) => this.execute(client, sql, params),
            rowsThenCommit: async (...runs: StatementRun[]) => {
              committed = true;
              const statements = runs.map((run) => run.statement);
              return this.prepareAndRun(client, statements, [], {
                after: ['COMMIT'],
                execute: (name, i) => {
                  const params = runs[i]?.params ?? [];
                  return params.length === 0
                    ? `EXECUTE ${name}`
                    : `EXECUTE ${name}(${params.map(sqlLiteral).join(', ')})`;
                },
              }).catch((error: unknown) => {
                discard ||= !this.isPrepared(client, statements);
                throw error;
              });
            },
          };
          const result = await work(tx, opened);
          if (!committed) await queryOn(client, 'COMMIT', this.readTimeoutMs);
          return result;
        } catch (error) {
          // A lost or stuck connection is closed on release, which ends the transaction on the server: a ROLLBACK
          // would only queue behind the stuck statement. One that cannot even roll back is closed as well.
          if (spoilsConnection(error)) throw error;
          await queryOn(client, 'ROLLBACK', this.readTimeoutMs).catch(() => (discard = true));
          throw error;
        }
      },
      (error) => discard || spoilsConnection(error),
    );
  }

  /** Sends BEGIN, the settings and the opening statements as one simple query; the rows of the opening's results. */
  private open(client: PoolClient, options: Required<TransactionOptions>): Promise<unknown[][]> {
    const { durable, genericPlans, noBitmapScans, opening } = options;
    const settings = [
      ...(durable ? [] : ['SET LOCAL synchronous_commit TO off']),
      ...(genericPlans ? ['SET LOCAL plan_cache_mode TO force_generic_plan'] : []),
      ...(noBitmapScans ? ['SET LOCAL enable_bitmapscan TO off'] : []),
    ];
    return this.prepareAndRun(client, opening, ['BEGIN'], { before: settings });
  }

  /**
   * One simple query: `first`, then the statements prepared on this connection if they are not yet (SQL PREPARE),
   * `before`, each statement executed, `after`; returns the rows each statement's execution gave.
   */
  private async prepareAndRun(
    client: PoolClient,
    statements: readonly Statement[],
    first: readonly string[],
    {
      before = [],
      after = [],
      execute = (name: string) => `EXECUTE ${name}`,
    }: { before?: readonly string[]; after?: readonly string[]; execute?: (name: string, i: number) => string },
  ): Promise<unknown[][]> {
    const names = this.preparedOn.get(client) ?? new Set<string>();
    // Each once, though a statement may be executed several times in the round trip.
    const unprepared = [...new Map(statements.map((s) => [s.name, s])).values()].filter((s) => !names.has(s.name));
    const text = [
      ...first,
      ...unprepared.map((s) => `PREPARE ${sqlName(s)} AS ${s.text}`),
      ...before,
      ...statements.map((s, i) => execute(sqlName(s), i)),
      ...after,
    ].join(';\n');
    let results: unknown;
    try {
      results = await queryOn(client, text, this.readTimeoutMs);
    } catch (error) {
      // Named, not shown: the literals may carry task contexts.
      const shown = [...first, ...before, ...statements.map((s) => `EXECUTE ${sqlName(s)}`), ...after].join('; ');
      this.failed(shown, undefined, error);
      throw error;
    }
    for (const statement of unprepared) names.add(statement.name);
    this.preparedOn.set(client, names);
    const all = (Array.isArray(results) ? results : [results]) as { rows: unknown[] }[];
    const executed = all.length - after.length;
    return statements.length === 0 ? [] : all.slice(executed - statements.length, executed).map((r) => r.rows);
  }

  private isPrepared(client: PoolClient, statements: readonly Statement[]): boolean {
    const names = this.preparedOn.get(client);
    return statements.every((s) => names?.has(s.name) === true);
  }

  /** Called on every statement that fails; returns how to stop listening. */
  onFailure(listener: () => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private async execute<T>(client: PoolClient, sql: Statement | string, params: readonly unknown[]): Promise<T[]> {
    const query: QueryConfig =
      typeof sql === 'string'
        ? { text: sql, values: [...params] }
        : { name: sql.name, text: sql.text, values: [...params] };
    const started = performance.now();
    try {
      const result = await queryOn(client, query, this.readTimeoutMs);
      const elapsed = Math.round(performance.now() - started);
      if (elapsed > SLOW_MS) {
        this.logger.warn({ statement: query.name, ms: elapsed }, `Slow query (${elapsed} ms): ${shorten(query.text)}`);
      }
      return result.rows as T[];
    } catch (error) {
      this.failed(query.text, query.name, error);
      throw error;
    }
  }

  private failed(text: string, name: string | undefined, error: unknown): void {
    for (const listener of this.failureListeners) listener();
    this.logger.warn(
      { statement: name, err: describeError(error) },
      `Query failed: ${describeError(error)} — ${shorten(text)}`,
    );
  }

  private pool() {
    const pool = pgPoolOf(this.dataSource);
    if (pool === undefined) throw new Error('the database is not connected');
    return pool;
  }
}
