import { HiveApi, type SubmittedTask } from './support/api.js';
import { AgentFleet, closeAll, FAST_COORDINATOR_ENV } from './support/hive-fixture.js';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import type { AgentBehavior, OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';
import { message, stopHiveProcesses } from './support/process-control.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** How many times each prompt reached any of the agents. */
function promptCounts(fleet: readonly OllamaAgent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const prompt of fleet.flatMap((a) => a.requests.map((r) => r.prompt)))
    counts.set(prompt, (counts.get(prompt) ?? 0) + 1);
  return counts;
}

/**
 * The agent's first answer waits until it holds two calls at once, so the test knows (rather than hopes) that Hive
 * used all of its max_concurrent 2; if Hive never sent a second call, the first would never end.
 */
function holdFirstUntilTwoInFlight(agent: OllamaAgent, delayMs: number): void {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const stop = agent.onRequest(() => {
    if (agent.inFlight < 2) return;
    stop();
    open();
  });
  agent.queueBehaviors({ kind: 'ok', delayMs, gate });
}

const markerOf = (task: Pick<SubmittedTask, 'context'>): string => String(task.context.prompt);
const inFlight = (fleet: readonly OllamaAgent[]): number => fleet.reduce((sum, a) => sum + a.inFlight, 0);

/** Several real Hive processes (the production build) on one database, with crashes and clean stops. */
describe('replicas (real processes on one PostgreSQL database, real agent servers)', () => {
  let db: TestDatabase | undefined;
  let processes: HiveProcess[] = [];
  let agents = new AgentFleet();

  const database = (): TestDatabase => {
    if (db === undefined) throw new Error('the test database was not created');
    return db;
  };

  /** A Hive process on the suite's database, serving. */
  async function spawn(env: Record<string, string> = {}): Promise<HiveProcess> {
    const hive = await spawnHive({ DATABASE_URL: database().url, ...FAST_COORDINATOR_ENV, ...env });
    processes.push(hive);
    await hive.waitUntilServing('/health');
    return hive;
  }

  /** `count` agents of `specialty` (max_concurrent 2) registered through `api`. */
  async function fleetOf(
    api: HiveApi,
    specialty: string,
    count: number,
    behavior: AgentBehavior,
  ): Promise<OllamaAgent[]> {
    const fleet = await Promise.all(Array.from({ length: count }, () => agents.start({ behavior })));
    for (const [i, agent] of fleet.entries()) {
      await api.registerAgent({ id: `${specialty}-${i}`, endpoint: agent.url, specialty, max_concurrent: 2 });
    }
    return fleet;
  }

  async function submitAll(apis: readonly HiveApi[], type: string, count: number): Promise<SubmittedTask[]> {
    const tasks: SubmittedTask[] = [];
    for (let start = 0; start < count; start += 25) {
      const batch = Array.from({ length: Math.min(25, count - start) }, (_, j) => start + j);
      tasks.push(
        ...(await Promise.all(
          batch.map((i) => apis[i % apis.length].submitTask({ type, context: { prompt: `${type}-${i}` } })),
        )),
      );
    }
    return tasks;
  }

  /** The rows of `type` as a stopped process left them (read from the database: no replica is running to ask). */
  async function statesAtRest(
    type: string,
  ): Promise<{ marker: string; status: string; attempts: number; lease_owner: string | null }[]> {
    return database().query(
      `SELECT context->>'prompt' AS marker, status, attempts, lease_owner FROM tasks WHERE type = $1 ORDER BY created_at`,
      [type],
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    const [stopping, closing] = [processes, agents];
    [processes, agents] = [[], new AgentFleet()];
    await closeAll([
      () => stopHiveProcesses(stopping),
      () => closing.closeAll(),
      () => db?.query('TRUNCATE tasks, agents CASCADE'),
    ]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('two processes run 300 tasks over 4 agents: each task reaches an agent exactly once, never over max_concurrent', async () => {
    const apis = (await Promise.all([spawn(), spawn()])).map((p) => new HiveApi(p.url));
    const delays = [5, 10, 15, 20];
    const fleet = await Promise.all(delays.map((delayMs) => agents.start({ behavior: { kind: 'ok', delayMs } })));
    for (const [i, agent] of fleet.entries()) holdFirstUntilTwoInFlight(agent, delays[i] ?? 0);
    for (const [i, agent] of fleet.entries()) {
      await apis[i % 2].registerAgent({ id: `bulk-${i}`, endpoint: agent.url, specialty: 'bulk', max_concurrent: 2 });
    }
    const submitted = await submitAll(apis, 'bulk', 300);

    const tasks = await apis[1].waitForTasks('bulk', 'completed', 300, { timeoutMs: 90_000, intervalMs: 100 });
    expect(tasks).toHaveLength(300);
    expect(new Set(tasks.map((t) => t.id))).toEqual(new Set(submitted.map((t) => t.id)));
    expect(tasks.filter((t) => t.attempts !== 1 || t.result?.response !== `echo: ${markerOf(t)}`)).toEqual([]);
    const counts = promptCounts(fleet);
    expect(counts.size).toBe(300);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect(fleet.map((a) => a.maxInFlight)).toEqual([2, 2, 2, 2]); // each limit reached, none exceeded
  }, 120_000);

  it('SIGKILL: the other process requeues the dead one’s tasks once their lease expires; nothing is lost', async () => {
    const env = { TASK_LEASE_MS: '2000' };
    const doomed = await spawn(env);
    const fleet = await fleetOf(new HiveApi(doomed.url), 'crash', 4, { kind: 'hang' });
    await submitAll([new HiveApi(doomed.url)], 'crash', 12);
    await waitUntil(() => inFlight(fleet) === 8, {
      describe: 'the agents to be full',
      state: () => fleet.map((a) => a.inFlight),
    });
    const killed = new Set(promptCounts(fleet).keys());
    for (const agent of fleet) agent.setBehavior({ kind: 'ok', delayMs: 10 });
    // The survivor starts while every agent is busy with the doomed process' tasks.
    const survivor = await spawn(env);

    doomed.kill('SIGKILL');
    await expect(doomed.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    const tasks = await new HiveApi(survivor.url).waitForTasks('crash', 'completed', 12, { timeoutMs: 30_000 });

    expect(killed.size).toBe(8);
    expect(
      tasks
        .map((t) => ({ marker: markerOf(t), attempts: t.attempts }))
        .sort((a, b) => a.marker.localeCompare(b.marker)),
    ).toEqual(
      tasks
        .map((t) => ({ marker: markerOf(t), attempts: killed.has(markerOf(t)) ? 2 : 1 }))
        .sort((a, b) => a.marker.localeCompare(b.marker)),
    );
    const counts = promptCounts(fleet);
    expect([...counts].filter(([marker, n]) => n !== (killed.has(marker) ? 2 : 1))).toEqual([]);
    expect(counts.size).toBe(12);
  }, 120_000);

  it('SIGTERM with a grace longer than the calls: in-flight tasks complete, the rest stay pending; exit 0', async () => {
    const first = await spawn({ SHUTDOWN_GRACE_MS: '5000' });
    // The calls answer only once the process drains: no slot can free (and no 9th task start) before the signal.
    let answer = (): void => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const fleet = await fleetOf(new HiveApi(first.url), 'drain', 4, { kind: 'ok', gate });
    await submitAll([new HiveApi(first.url)], 'drain', 10);
    await waitUntil(() => inFlight(fleet) === 8, {
      describe: 'the agents to be full',
      state: () => fleet.map((a) => a.inFlight),
    });
    const running = new Set(promptCounts(fleet).keys());

    first.kill('SIGTERM');
    await first.waitForLog((line) => /^Draining 8 running task\(s\) for up to \d+ ms$/.test(message(line)));
    answer();
    await expect(first.exited).resolves.toEqual({ code: 0, signal: null });
    const atExit = await statesAtRest('drain');
    expect(
      atExit
        .filter((t) => t.status === 'completed')
        .map((t) => t.marker)
        .sort(),
    ).toEqual([...running].sort());
    expect(atExit.map((t) => [t.status, t.attempts, t.lease_owner])).toEqual(
      atExit.map((t) => (running.has(t.marker) ? ['completed', 1, null] : ['pending', 0, null])),
    );
    expect(promptCounts(fleet)).toEqual(new Map([...running].map((marker) => [marker, 1]))); // nothing sent after the signal
    expect(running.size).toBe(8); // two tasks were still queued when the signal came
  }, 120_000);

  it('SIGTERM with a grace shorter than the calls: unfinished tasks go back to pending uncounted; a restart runs them', async () => {
    const first = await spawn({ SHUTDOWN_GRACE_MS: '300' });
    const fleet = await fleetOf(new HiveApi(first.url), 'release', 4, { kind: 'hang' });
    await submitAll([new HiveApi(first.url)], 'release', 10);
    await waitUntil(() => inFlight(fleet) === 8, {
      describe: 'the agents to be full',
      state: () => fleet.map((a) => a.inFlight),
    });
    const interrupted = new Set(promptCounts(fleet).keys());

    first.kill('SIGTERM');
    await expect(first.exited).resolves.toEqual({ code: 0, signal: null });
    const atExit = await statesAtRest('release');
    expect(atExit.map((t) => [t.status, t.attempts, t.lease_owner])).toEqual(atExit.map(() => ['pending', 0, null]));
    await waitUntil(() => inFlight(fleet) === 0, {
      describe: 'the agents to see the calls end',
      state: () => fleet.map((a) => a.inFlight),
    });

    for (const agent of fleet) agent.setBehavior({ kind: 'ok', delayMs: 10 });
    const restarted = await spawn();
    const tasks = await new HiveApi(restarted.url).waitForTasks('release', 'completed', 10, { timeoutMs: 30_000 });
    expect(tasks.map((t) => t.attempts)).toEqual(Array.from({ length: 10 }, () => 1));
    const counts = promptCounts(fleet);
    expect([...counts].filter(([marker, n]) => n !== (interrupted.has(marker) ? 2 : 1))).toEqual([]);
    expect(interrupted.size).toBe(8);
  }, 120_000);
});
