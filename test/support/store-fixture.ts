import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, type HiveConfig } from '@hive/config';
import {
  AgentStore,
  ApiKeyStore,
  buildDataSourceOptions,
  QueueChannel,
  Sql,
  TaskStore,
  type ClaimableAgent,
  type ClaimPlanner,
  type NewAgent,
  type NewTask,
  type PendingTask,
  type Placement,
} from '@hive/database';
import { pollUntil } from './poll.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The integration specs' world: a migrated database of its own (a copy of the global
 * setup's template), a DataSource built the way the app builds it, and the stores on it. Small pools: the server
 * is shared with other suites.
 */
const config: HiveConfig = loadConfig({ NODE_ENV: 'test', DB_POOL_SIZE: '1', DB_POOL_MAX_OVERFLOW: '5' });
/** The replica the stores' QueueChannel speaks for (it names itself in the wakes it sends). */
export const STORE_REPLICA_ID = config.replicaId;

type Lifecycle = ConstructorParameters<typeof QueueChannel>[1];

/** Rows of any statement (TypeORM's plain query() answers an UPDATE with [rows, count]). */
async function rowsOf<R>(dataSource: DataSource, text: string, params: unknown[]): Promise<R[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return (await runner.query(text, params, true)).records as R[];
  } finally {
    await runner.release();
  }
}

/** One replica's view of the database: a pool of its own and the stores on it. */
export interface StoreReplica {
  readonly dataSource: DataSource;
  /** What the stores run their SQL with (for a transaction of the spec's own). */
  readonly runner: Sql;
  readonly tasks: TaskStore;
  readonly agents: AgentStore;
  readonly keys: ApiKeyStore;
  readonly channel: QueueChannel;
}

export interface StoreWorld extends StoreReplica {
  readonly db: TestDatabase;
  /** Another replica on the same database (closed with the world). */
  openReplica(): Promise<StoreReplica>;
  /** Rows of a statement run on the world's pool (for set-up and for reading columns no store returns). */
  sql<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** A client outside the pools (LISTEN, a transaction held open); ended with the world. */
  client(): Promise<pg.Client>;
  close(): Promise<void>;
}

async function openReplica(url: string): Promise<StoreReplica> {
  const dataSource = new DataSource(buildDataSourceOptions(config.database, url, 'hive-store-spec'));
  await dataSource.initialize();
  // QueueChannel reads only where the database is (for its LISTEN connection) from the lifecycle.
  const lifecycle: Pick<Lifecycle, 'connectionUrl'> = { connectionUrl: url };
  const sql = new Sql(dataSource, config);
  const channel = new QueueChannel(sql, lifecycle as Lifecycle, config);
  return {
    dataSource,
    runner: sql,
    tasks: new TaskStore(sql),
    agents: new AgentStore(sql, channel),
    keys: new ApiKeyStore(sql),
    channel,
  };
}

export async function openStoreWorld(): Promise<StoreWorld> {
  const db = await createTestDatabase();
  const replicas: StoreReplica[] = [];
  const clients: pg.Client[] = [];
  const replica = async () => {
    const opened = await openReplica(db.url);
    replicas.push(opened);
    return opened;
  };
  let first: StoreReplica;
  try {
    first = await replica();
  } catch (error) {
    await db.drop();
    throw error;
  }
  return {
    ...first,
    db,
    openReplica: replica,
    sql: <R>(text: string, params: unknown[] = []) => rowsOf<R>(first.dataSource, text, params),
    async client() {
      const client = new pg.Client({ connectionString: db.url, application_name: 'hive-store-spec-raw' });
      clients.push(client);
      await client.connect();
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.end()));
      await Promise.allSettled(replicas.map((r) => r.dataSource.destroy()));
      try {
        // pg-pool's end() answers before its connections are closed: dropping the database under them would make
        // their pools log "terminating connection". A connection that stays open is a leak (a listener not stopped).
        await pollUntil(
          () =>
            db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
            ),
          (rows) => rows[0]?.n === 0,
          { describe: `every connection to ${db.name} to close` },
        );
      } finally {
        await db.drop();
      }
    },
  };
}

/** A name no other test uses (agent ids and task types), valid as an agent id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function newAgent(specialty: string, overrides: Partial<NewAgent> = {}): NewAgent {
  return {
    id: uniqueName('agent'),
    endpoint: 'http://127.0.0.1:9/',
    model: 'llama3',
    specialty,
    max_concurrent: 2,
    kind: 'ollama',
    ...overrides,
  };
}

export function newTask(type: string, overrides: Partial<NewTask> = {}): NewTask {
  return {
    type,
    operation: 'generate',
    model: '',
    priority: 3,
    context: { prompt: 'hello' },
    max_attempts: 3,
    ...overrides,
  };
}

/** A task type no other test uses, served by one registered agent per entry of `maxConcurrent`. */
export async function registerType(
  world: StoreReplica,
  maxConcurrent: readonly number[] = [2],
): Promise<{ type: string; agents: NewAgent[] }> {
  const type = uniqueName('type');
  const agents = maxConcurrent.map((max) => newAgent(type, { max_concurrent: max }));
  for (const agent of agents) {
    if (!(await world.agents.register(agent))) throw new Error(`agent ${agent.id} exists already`);
  }
  return { type, agents };
}

/** What a planner was shown by one claim: the usable agents (locked) and their load over all replicas. */
export interface PlannerView {
  agents: readonly ClaimableAgent[];
  load: ReadonlyMap<string, number>;
}

/**
 * A planner for the tasks of `types` only (so that a test never takes another one's tasks), on their agents' default
 * models: each type asks for its agents' free slots (at most `limit`), and each task goes to the agent of its type
 * with the most room. Every view it is shown is appended to `seen`.
 */
export function plannerFor(types: readonly string[], limit = 64, seen: PlannerView[] = []): ClaimPlanner {
  return (agents, load) => {
    seen.push({ agents, load });
    const mine = agents.filter((a) => types.includes(a.specialty));
    const running = new Map(load);
    const room = (a: ClaimableAgent) => a.max_concurrent - (running.get(a.id) ?? 0);
    const slots = new Map<string, number>();
    let freeSlots = 0;
    for (const agent of mine) {
      const free = Math.max(0, room(agent));
      freeSlots += free;
      slots.set(agent.specialty, Math.min(limit, (slots.get(agent.specialty) ?? 0) + free));
    }
    const demand = [...slots].filter(([, n]) => n > 0).map(([type, n]) => ({ type, model: '', slots: n }));
    return {
      freeSlots,
      demand,
      place(tasks: readonly PendingTask[]) {
        const placements: Placement[] = [];
        for (const task of tasks) {
          const best = mine
            .filter((a) => a.specialty === task.type && room(a) > 0)
            .sort((a, b) => room(b) - room(a) || a.id.localeCompare(b.id))[0];
          if (best === undefined) continue;
          running.set(best.id, (running.get(best.id) ?? 0) + 1);
          placements.push({ task, agent: best, model: best.model });
        }
        return { placements, recent: new Map() };
      },
    };
  };
}

/** The columns of a task row the API never shows (the lease, the due time), read straight from the table. */
export interface TaskRow {
  id: string;
  status: string;
  assigned_agent: string | null;
  attempts: number;
  error: string | null;
  result: unknown;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  available_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  /** Seconds from now (the database's clock) to available_at and to lease_expires_at. */
  due_in_s: number;
  lease_left_s: number | null;
}

export async function taskRow(world: StoreWorld, id: string): Promise<TaskRow> {
  const rows = await world.sql<TaskRow>(
    `SELECT id, status, assigned_agent, attempts, error, result, lease_owner, lease_expires_at, available_at,
            started_at, completed_at, updated_at,
            extract(epoch FROM available_at - now())::float8 AS due_in_s,
            extract(epoch FROM lease_expires_at - now())::float8 AS lease_left_s
       FROM tasks WHERE id = $1`,
    [id],
  );
  if (rows[0] === undefined) throw new Error(`task ${id} is not in the table`);
  return rows[0];
}
