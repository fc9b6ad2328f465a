import { HiveApi, type NewTask } from './api.js';
import { FAST_COORDINATOR_ENV } from './hive-fixture.js';
import { spawnHive, type HiveProcess } from './hive-process.js';
import type { OllamaAgent } from './ollama-agent.js';
import { stopHiveProcesses } from './process-control.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * Hive replicas as real processes of the production build on one test database of their own, for the suites that
 * need a second replica: open() in beforeAll, stopAll() in afterEach, close() in afterAll.
 */
export class ReplicaSet {
  private db: TestDatabase | undefined;
  private processes: HiveProcess[] = [];

  async open(): Promise<void> {
    this.db = await createTestDatabase();
  }

  get database(): TestDatabase {
    if (this.db === undefined) throw new Error('the test database was not created: call open() first');
    return this.db;
  }

  /** A replica named `replicaId` (FAST_COORDINATOR_ENV, plus `env`), serving. */
  async spawn(replicaId: string, env: Record<string, string> = {}): Promise<HiveProcess> {
    const hive = await spawnHive({
      DATABASE_URL: this.database.url,
      ...FAST_COORDINATOR_ENV,
      HIVE_REPLICA_ID: replicaId,
      ...env,
    });
    this.processes.push(hive);
    await hive.waitUntilServing('/health');
    return hive;
  }

  /**
   * A task held by one replica and followed from another: `runner` starts alone, registers `agent` (as `agentId`,
   * serving `task.type`) and submits `task`; once the agent holds the call, `other` starts. The caller checks with
   * leaseOf that `runner` holds it (no other replica was serving when it was claimed).
   */
  async taskHeldBy(
    runner: string,
    other: string,
    agent: { id: string; server: OllamaAgent },
    task: NewTask & { type: string },
  ): Promise<{ runner: HiveProcess; other: HiveProcess; taskId: string }> {
    const first = await this.spawn(runner);
    const api = new HiveApi(first.url);
    await api.registerAgent({ id: agent.id, endpoint: agent.server.url, specialty: task.type });
    const { id } = await api.submitTask(task);
    await agent.server.waitForRequests(1);
    return { runner: first, other: await this.spawn(other), taskId: id };
  }

  /** The task's status and the replica holding its lease, read from the database. */
  async leaseOf(taskId: string): Promise<{ status: string; lease_owner: string | null } | undefined> {
    const [row] = await this.database.query<{ status: string; lease_owner: string | null }>(
      'SELECT status, lease_owner FROM tasks WHERE id = $1',
      [taskId],
    );
    return row;
  }

  async stopAll(): Promise<void> {
    const stopping = this.processes;
    this.processes = [];
    await stopHiveProcesses(stopping);
  }

  async close(): Promise<void> {
    await this.stopAll();
    await this.db?.drop();
  }
}
