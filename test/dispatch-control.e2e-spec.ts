import { ISO_8601, messages, type Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import { waitUntil } from './support/poll.js';
import { parseSamples } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';

/** Cancelling, leases of long tasks, agents going offline and back, and removing an agent that runs a task. */
describe('dispatch: cancel, leases, offline agents, removal (in-process Hive, real PostgreSQL, real agents)', () => {
  // Renewed every second, reaped every 1.5 s.
  const LEASE_MS = 3_000;
  const world = suiteFixture({ TASK_LEASE_MS: String(LEASE_MS) });

  it('cancels a pending task (200, cancelled), which never reaches the agent', async () => {
    const { api, agents } = world();
    const agent = await agents.start();
    await api.registerAgent({ id: 'cxl-p', endpoint: agent.url, specialty: 'cxlpending', enabled: false });
    const doomed = await api.submitTask({ type: 'cxlpending', context: { prompt: 'never run me' } });

    const res = await api.cancelTask(doomed.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: doomed.id, status: 'cancelled', attempts: 0, result: null });
    expect((res.body as Task).completed_at).toMatch(ISO_8601);

    await api.updateAgent('cxl-p', { enabled: true });
    const after = await api.submitTask({ type: 'cxlpending', context: { prompt: 'run me' } });
    await api.waitForTask(after.id, 'completed');
    expect(agent.requests.map((r) => r.prompt)).toEqual(['run me']);
    await expect(api.getTask(doomed.id)).resolves.toMatchObject({ status: 'cancelled', assigned_agent: null });
  });

  it('cancels a running task: 200, cancelled, and the agent sees its request aborted', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ behavior: { kind: 'hang' } });
    await api.registerAgent({ id: 'cxl-r', endpoint: agent.url, specialty: 'cxlrunning' });
    const submitted = await api.submitTask({ type: 'cxlrunning', context: { prompt: 'hang on' } });
    await agent.waitForRequests(1);
    await expect(api.getTask(submitted.id)).resolves.toMatchObject({ status: 'in_progress', assigned_agent: 'cxl-r' });
    expect(agent.inFlight).toBe(1);

    const res = await api.cancelTask(submitted.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: submitted.id, status: 'cancelled', assigned_agent: 'cxl-r' });
    await waitUntil(() => agent.inFlight === 0, {
      describe: 'the agent to see its request aborted',
      state: () => agent.inFlight,
    });
    await expect(api.getTask(submitted.id)).resolves.toMatchObject({ status: 'cancelled', attempts: 1, result: null });
    await expect(api.getAgent('cxl-r')).resolves.toMatchObject({ current_tasks: 0, consecutive_failures: 0 });
  });

  it('refuses (409) to cancel a finished task', async () => {
    const { api, agents } = world();
    const agent = await agents.start();
    await api.registerAgent({ id: 'cxl-f', endpoint: agent.url, specialty: 'cxlfinished' });
    const submitted = await api.submitTask({ type: 'cxlfinished', context: { prompt: 'quick' } });
    await api.waitForTask(submitted.id, 'completed');

    const res = await api.cancelTask(submitted.id);
    expect({ status: res.status, messages: messages(res.body) }).toEqual({
      status: 409,
      messages: [expect.stringContaining('completed') as unknown],
    });
    await expect(api.getTask(submitted.id)).resolves.toMatchObject({ status: 'completed' });
  });

  it('keeps the lease of a task that runs longer than the lease, and completes it on the first attempt', async () => {
    const { api, agents, db } = world();
    let answer = (): void => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const agent = await agents.start({ behavior: { kind: 'ok', gate } });
    await api.registerAgent({ id: 'slow-1', endpoint: agent.url, specialty: 'slow' });
    const submitted = await api.submitTask({ type: 'slow', context: { prompt: 'take your time' } });
    await agent.waitForRequests(1);

    // The agent answers only once the lease has been renewed past its first expiry: the call outlived a lease.
    const leaseExpiry = async (): Promise<number> => {
      const [row] = await db.query<{ at: Date | null }>(`SELECT lease_expires_at AS at FROM tasks WHERE id = $1`, [
        submitted.id,
      ]);
      return row?.at?.getTime() ?? NaN;
    };
    const first = await leaseExpiry();
    await waitUntil(async () => (await leaseExpiry()) > first + LEASE_MS, {
      describe: 'the lease renewed past its first expiry',
      timeoutMs: 5 * LEASE_MS,
    });
    answer();

    const task = await api.waitForTask(submitted.id, (t) => t.status !== 'pending' && t.status !== 'in_progress');
    expect(task).toMatchObject({ status: 'completed', attempts: 1, error: null });
    expect(agent.requests).toHaveLength(1);
  });

  it('takes an agent offline after failures, gives it nothing meanwhile, and uses it again once a probe succeeds', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ behavior: { kind: 'down' }, tagsBehavior: 'down' });
    await api.registerAgent({ id: 'flaky-1', endpoint: agent.url, specialty: 'flaky' });
    const offline = await api.waitForAgent(
      'flaky-1',
      (a) => a.status === 'offline',
      'to go offline after failed probes',
    );
    expect(offline.consecutive_failures).toBeGreaterThanOrEqual(2);
    expect(offline.last_error).toMatch(/probe failed/);

    const submitted = await api.submitTask({ type: 'flaky', context: { prompt: 'when you are back' } });
    const probes = agent.tagsCalls;
    // Three more probes take at least two queue polls: time enough for a wrong dispatch to happen.
    await waitUntil(() => agent.tagsCalls >= probes + 3, {
      describe: 'three more probes',
      state: () => agent.tagsCalls,
    });
    expect(agent.requests).toHaveLength(0);
    await expect(api.getTask(submitted.id)).resolves.toMatchObject({ status: 'pending', attempts: 0 });
    await expect(api.getAgent('flaky-1')).resolves.toMatchObject({ status: 'offline' });

    agent.setTagsBehavior('ok');
    agent.setBehavior({ kind: 'ok' });
    const task = await api.waitForTask(submitted.id, 'completed');
    expect(task).toMatchObject({ attempts: 1, assigned_agent: 'flaky-1' });
    const back = await api.getAgent('flaky-1');
    expect(back).toMatchObject({ status: 'available', consecutive_failures: 0 });
    expect(back.last_seen).toMatch(ISO_8601);
  });

  it('refuses to delete an agent running a task (409); with ?force=true requeues it onto another agent', async () => {
    const { api, agents } = world();
    const stuck = await agents.start({ behavior: { kind: 'hang' } });
    const spare = await agents.start();
    await api.registerAgent({ id: 'del-a', endpoint: stuck.url, specialty: 'removal' });
    await api.registerAgent({ id: 'del-b', endpoint: spare.url, specialty: 'removal', enabled: false });
    const submitted = await api.submitTask({ type: 'removal', context: { prompt: 'long job' } });
    await stuck.waitForRequests(1);

    const refused = await api.request('DELETE', '/api/agents/del-a');
    expect({ status: refused.status, messages: messages(refused.body) }).toEqual({
      status: 409,
      messages: [expect.stringContaining('force=true') as unknown],
    });
    await expect(api.getTask(submitted.id)).resolves.toMatchObject({ status: 'in_progress', assigned_agent: 'del-a' });

    await api.updateAgent('del-b', { enabled: true });
    const forced = await api.request('DELETE', '/api/agents/del-a?force=true');
    expect(forced).toEqual({
      status: 200,
      body: { status: 'success', message: 'Agent del-a removed', requeued_tasks: 1 },
    });
    const task = await api.waitForTask(submitted.id, 'completed');
    expect(task).toMatchObject({ assigned_agent: 'del-b', attempts: 1, result: { response: 'echo: long job' } });
    await waitUntil(() => stuck.inFlight === 0, {
      describe: 'the removed agent to see its call aborted',
      state: () => stuck.inFlight,
    });
    expect(stuck.requests).toHaveLength(1);
    expect(spare.requests).toHaveLength(1);
    await expect(api.request('GET', '/api/agents/del-a')).resolves.toMatchObject({ status: 404 });
    // The requeued task finished once, as completed: the aborted call is not a cancellation. (Read once this
    // replica has let go of the aborted call too.)
    await waitUntil(
      async () => {
        const report = await api.request<{ components: { coordinator: { running_tasks: number } } }>(
          'GET',
          '/api/health',
        );
        return report.body.components.coordinator.running_tasks === 0;
      },
      { describe: 'the replica to finish with the aborted call' },
    );
    const finished = parseSamples(await scrape(world().hive.url)).filter(
      (s) => s.name === 'hive_tasks_finished_total' && s.labels.type === 'removal',
    );
    expect(finished.map((s) => [s.labels.outcome, s.value])).toEqual([['completed', 1]]);
  });

  it('resizes an agent (PATCH max_concurrent) without cutting the call it is running', async () => {
    const { api, agents } = world();
    let answer = (): void => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const agent = await agents.start({ behavior: { kind: 'ok', gate } });
    await api.registerAgent({ id: 'resized', endpoint: agent.url, specialty: 'resize', max_concurrent: 1 });
    const running = await api.submitTask({ type: 'resize', context: { prompt: 'keep going' } });
    await agent.waitForRequests(1);

    await api.updateAgent('resized', { max_concurrent: 3 });
    const more = [
      await api.submitTask({ type: 'resize', context: { prompt: 'second' } }),
      await api.submitTask({ type: 'resize', context: { prompt: 'third' } }),
    ];
    // The first call is still open on its socket while the new slots take the other two.
    await agent.waitForRequests(3);
    expect(agent.inFlight).toBe(3);
    answer();
    await expect(api.waitForTask(running.id, 'completed')).resolves.toMatchObject({ attempts: 1, error: null });
    for (const task of more) await api.waitForTask(task.id, 'completed');
    expect(agent.requests).toHaveLength(3);
    await expect(api.getAgent('resized')).resolves.toMatchObject({ consecutive_failures: 0, status: 'available' });
  });
});
