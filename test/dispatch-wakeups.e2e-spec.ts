import { HiveApi } from './support/api.js';
import { AgentFleet, closeAll, FAST_COORDINATOR_ENV } from './support/hive-fixture.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { waitUntil } from './support/poll.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** A promise and the function that settles it: the `gate` of an agent's answer, opened when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * A dispatcher whose agents are all busy ignores wake-ups that only announce new tasks; these tests make sure no
 * task is left waiting for the poll because of it. The poll is set to ten minutes, so a task that needed it would
 * never finish within the test's waits.
 */
describe('dispatch wake-ups while every agent slot is taken (two in-process Hives, real PostgreSQL, real agents)', () => {
  const NO_POLL = { ...FAST_COORDINATOR_ENV, QUEUE_POLL_MS: '600000' };
  let db: TestDatabase;
  let hives: RunningHive[] = [];
  let one: HiveApi;
  let two: HiveApi;
  const agents = new AgentFleet();

  beforeAll(async () => {
    db = await createTestDatabase();
    hives = [
      await startHive({ DATABASE_URL: db.url, ...NO_POLL }),
      await startHive({ DATABASE_URL: db.url, ...NO_POLL }),
    ];
    [one, two] = hives.map((hive) => new HiveApi(hive.url)) as [HiveApi, HiveApi];
  });
  afterAll(async () => {
    await closeAll([...hives.map((hive) => () => hive.close()), () => agents.closeAll(), () => db?.drop()]);
  });

  it('runs tasks queued behind a busy agent as each slot frees, in order, never two at once', async () => {
    const busy = gate();
    const agent = await agents.start();
    agent.queueBehaviors({ kind: 'ok', gate: busy.promise }); // the first call holds the only slot until opened
    await one.registerAgent({ id: 'single-slot', endpoint: agent.url, specialty: 'queued', max_concurrent: 1 });
    const ids = [(await one.submitTask({ type: 'queued', context: { prompt: 'q0' } })).id];
    await agent.waitForRequests(1);
    for (let i = 1; i < 4; i++) ids.push((await one.submitTask({ type: 'queued', context: { prompt: `q${i}` } })).id);
    await expect(Promise.all(ids.slice(1).map(async (id) => (await one.getTask(id)).status))).resolves.toEqual([
      'pending',
      'pending',
      'pending',
    ]);

    busy.open();
    for (const id of ids) await one.waitForTask(id, 'completed');
    expect(agent.requests.map((r) => r.prompt)).toEqual(['q0', 'q1', 'q2', 'q3']);
    expect(agent.maxInFlight).toBe(1);
  });

  it('gives waiting tasks to an agent registered while the others are busy', async () => {
    const stuck = await agents.start({ behavior: { kind: 'hang' } });
    await one.registerAgent({ id: 'stuck', endpoint: stuck.url, specialty: 'rescue', max_concurrent: 1 });
    const first = await one.submitTask({ type: 'rescue', context: { prompt: 'hangs' } });
    await stuck.waitForRequests(1);
    const waiting = [
      await one.submitTask({ type: 'rescue', context: { prompt: 'w1' } }),
      await two.submitTask({ type: 'rescue', context: { prompt: 'w2' } }),
    ];
    await expect(one.getTask(waiting[0]?.id ?? '')).resolves.toMatchObject({ status: 'pending' });

    const helper = await agents.start();
    await two.registerAgent({ id: 'helper', endpoint: helper.url, specialty: 'rescue', max_concurrent: 2 });
    for (const task of waiting) await one.waitForTask(task.id, 'completed');
    expect(helper.requests.map((r) => r.prompt).sort()).toEqual(['w1', 'w2']);
    expect(stuck.requests).toHaveLength(1);
    expect((await one.cancelTask(first.id)).status).toBe(200);
  });

  it('completes tasks submitted alternately through both replicas to one busy agent', async () => {
    const busy = gate();
    const agent = await agents.start();
    agent.queueBehaviors({ kind: 'ok', gate: busy.promise }); // s0 holds the only slot until opened
    await two.registerAgent({ id: 'shared', endpoint: agent.url, specialty: 'shared', max_concurrent: 1 });
    const ids = [(await one.submitTask({ type: 'shared', context: { prompt: 's0' } })).id];
    await agent.waitForRequests(1);
    for (let i = 1; i < 8; i++)
      ids.push((await (i % 2 === 0 ? one : two).submitTask({ type: 'shared', context: { prompt: `s${i}` } })).id);
    await expect(one.listTasks({ type: 'shared', status: 'pending' })).resolves.toMatchObject({ filtered: 7 });

    busy.open();
    for (const id of ids) await two.waitForTask(id, 'completed');
    expect(agent.requests.map((r) => r.prompt)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
    expect(agent.maxInFlight).toBe(1);
  });
});

describe('slots freed by a replica that is leaving or dead are refilled (in-process and spawned Hives, real PostgreSQL)', () => {
  let db: TestDatabase;
  const agents = new AgentFleet();
  const hives: RunningHive[] = [];
  const processes: HiveProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const hive of processes) hive.kill('SIGKILL');
    await closeAll([
      ...processes.map((hive) => () => hive.exited),
      ...hives.map((hive) => () => hive.close()),
      () => agents.closeAll(),
      () => db?.drop(),
    ]);
  });

  it('runs a task queued on a busy agent as soon as the draining replica finishes its call there', async () => {
    const env = { DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV, QUEUE_POLL_MS: '600000', SHUTDOWN_GRACE_MS: '5000' };
    const call = gate();
    const agent = await agents.start();
    agent.queueBehaviors({ kind: 'ok', gate: call.promise }); // 'first' holds the only slot until opened
    const leaving = await startHive(env);
    const leavingApi = new HiveApi(leaving.url);
    await leavingApi.registerAgent({ id: 'only-one', endpoint: agent.url, specialty: 'handover', max_concurrent: 1 });
    const first = await leavingApi.submitTask({ type: 'handover', context: { prompt: 'first' } });
    await agent.waitForRequests(1);

    // Started now, the staying replica's first pass finds the only slot taken.
    const staying = await startHive(env);
    hives.push(staying);
    const stayingApi = new HiveApi(staying.url);
    const closing = leaving.close();
    const second = await stayingApi.submitTask({ type: 'handover', context: { prompt: 'second' } });
    // The leaving replica drains (it serves HTTP until its drain is over); only then does its call end.
    await waitUntil(
      async () => {
        const report = await leavingApi.request<{ components: { coordinator: { phase: string } } }>(
          'GET',
          '/api/health',
        );
        return report.body.components.coordinator.phase === 'draining';
      },
      { describe: 'the leaving replica to drain' },
    );
    await expect(stayingApi.getTask(second.id)).resolves.toMatchObject({ status: 'pending' });

    call.open();
    await closing;
    await expect(stayingApi.getTask(first.id)).resolves.toMatchObject({ status: 'completed' });
    await stayingApi.waitForTask(second.id, 'completed');
    expect(agent.requests.map((r) => r.prompt)).toEqual(['first', 'second']);
  });

  it('refills the slot of a task cancelled while the replica running it is dead', async () => {
    const env = { DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV, QUEUE_POLL_MS: '600000', TASK_LEASE_MS: '600000' };
    const agent = await agents.start({ behavior: { kind: 'hang' } });
    const doomed = await spawnHive(env);
    processes.push(doomed);
    await doomed.waitUntilServing('/health');
    const doomedApi = new HiveApi(doomed.url);
    await doomedApi.registerAgent({ id: 'orphaned', endpoint: agent.url, specialty: 'orphan', max_concurrent: 1 });
    const stuck = await doomedApi.submitTask({ type: 'orphan', context: { prompt: 'stuck' } });
    await agent.waitForRequests(1);
    doomed.kill('SIGKILL');
    await doomed.exited;

    const survivor = await startHive(env);
    hives.push(survivor);
    const api = new HiveApi(survivor.url);
    const next = await api.submitTask({ type: 'orphan', context: { prompt: 'next' } });
    await expect(api.getTask(next.id)).resolves.toMatchObject({ status: 'pending' });
    agent.setBehavior({ kind: 'ok' });
    expect((await api.cancelTask(stuck.id)).status).toBe(200);
    await api.waitForTask(next.id, 'completed');
    expect(agent.requests.map((r) => r.prompt)).toEqual(['stuck', 'next']);
  });
});
