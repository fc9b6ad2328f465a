import type pg from 'pg';
import { pollUntil } from '../../../../test/support/poll.js';
import { parseCancel } from '../queue/queue-payloads.js';
import {
  newAgent,
  newTask,
  openStoreWorld,
  plannerFor,
  registerType,
  uniqueName,
  type PlannerView,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';

/** Where the agents of newAgent() are. */
const AT = newAgent('').endpoint;

/** AgentStore on a real PostgreSQL: the registry, removal, probes and failures (docs/architecture.md, "Probes"). */
describe('AgentStore', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** A raw connection LISTENing on hive_cancel, and the payloads it heard. */
  async function cancelListener(on: StoreWorld): Promise<{ client: pg.Client; heard: string[] }> {
    const client = await on.client();
    const heard: string[] = [];
    client.on('notification', (msg) => heard.push(msg.payload ?? ''));
    await client.query('LISTEN hive_cancel');
    return { client, heard };
  }

  /** Sends `marker` on hive_cancel and waits for it: notifications come in commit order, so all before it are in. */
  async function drain(listener: { heard: string[] }, marker: string): Promise<string[]> {
    await world.sql(`SELECT pg_notify('hive_cancel', $1)`, [marker]);
    await pollUntil(
      () => listener.heard,
      (heard) => heard.includes(marker),
      { describe: `the marker ${marker} on hive_cancel` },
    );
    return listener.heard.slice(0, listener.heard.indexOf(marker));
  }

  describe('register, get, list', () => {
    it('registers an agent once; a second registration of its id changes nothing', async () => {
      const agent = newAgent(uniqueName('type'), { max_concurrent: 7, kind: 'ollama' });
      await expect(world.agents.register(agent)).resolves.toBe(true);
      await expect(world.agents.register({ ...agent, endpoint: 'http://elsewhere:1/' })).resolves.toBe(false);

      await expect(world.agents.get(agent.id)).resolves.toEqual({
        id: agent.id,
        endpoint: agent.endpoint,
        model: agent.model,
        models: [agent.model], // until a probe says what it serves
        loaded_models: [],
        loaded_capacity: 0,
        recent_models: {},
        specialty: agent.specialty,
        kind: 'ollama',
        max_concurrent: 7,
        enabled: true,
        offline: false,
        has_api_key: false,
        consecutive_failures: 0,
        last_seen: null,
        last_error: null,
        models_probed_at: null,
        paused_until: null,
        created_at: expect.any(Date) as unknown,
        current_tasks: 0,
      });
      await expect(world.agents.get(uniqueName('missing'))).resolves.toBeUndefined();
    });

    it('counts current_tasks from the tasks in progress on each agent, listed by id', async () => {
      const { type, agents } = await registerType(world, [3, 3]);
      const ids = agents.map((a) => a.id);
      await world.tasks.submitBatch([1, 2, 3].map((n) => newTask(type, { context: { n } })));
      const claim = await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]));
      expect(claim.tasks).toHaveLength(3);
      const done = claim.tasks[0];
      await world.tasks.completeBatch(replicaId, [{ taskId: done.id, agentId: done.agent.id, result: {} }]);
      const expected = new Map(ids.map((id) => [id, claim.tasks.filter((t) => t.agent.id === id).length]));
      expected.set(done.agent.id, (expected.get(done.agent.id) ?? 0) - 1);

      const listed = await world.agents.list();

      const mine = listed.filter((a) => ids.includes(a.id));
      expect(mine.map((a) => [a.id, a.current_tasks])).toEqual([...ids].sort().map((id) => [id, expected.get(id)]));
      expect(listed.map((a) => a.id)).toEqual(listed.map((a) => a.id).sort());
      for (const id of ids)
        await expect(world.agents.get(id)).resolves.toMatchObject({ current_tasks: expected.get(id) });
      expect(mine.map((a) => [a.specialty, a.models])).toEqual(ids.map(() => [type, ['llama3']]));
    });
  });

  describe('update', () => {
    it('changes only the fields given; false for an unknown agent', async () => {
      const { agents } = await registerType(world, [2]);
      const agent = agents[0];
      const id = agent.id;

      await expect(world.agents.update(id, { endpoint: 'http://127.0.0.1:10/' })).resolves.toBe(true);
      await expect(world.agents.get(id)).resolves.toMatchObject({
        endpoint: 'http://127.0.0.1:10/',
        model: agent.model,
        max_concurrent: 2,
        enabled: true,
      });
      await expect(world.agents.update(id, { model: 'qwen', max_concurrent: 9, enabled: false })).resolves.toBe(true);
      await expect(world.agents.get(id)).resolves.toMatchObject({
        endpoint: 'http://127.0.0.1:10/',
        model: 'qwen',
        max_concurrent: 9,
        enabled: false,
      });
      await expect(world.agents.update(uniqueName('missing'), { enabled: true })).resolves.toBe(false);
    });
  });

  describe('remove', () => {
    it('answers missing for an unknown agent, and removes an idle one', async () => {
      await expect(world.agents.remove(uniqueName('missing'), true)).resolves.toEqual({ outcome: 'missing' });
      const { agents } = await registerType(world);
      const id = agents[0].id;
      await expect(world.agents.remove(id, false)).resolves.toEqual({ outcome: 'removed', requeued: 0 });
      await expect(world.agents.get(id)).resolves.toBeUndefined();
    });

    it('refuses a busy agent without force, changing nothing and sending nothing', async () => {
      const { type, agents } = await registerType(world, [2]);
      const id = agents[0].id;
      await world.tasks.submitBatch([newTask(type), newTask(type)]);
      await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]));
      const listener = await cancelListener(world);
      const before = await world.sql(`SELECT * FROM tasks WHERE type = $1 ORDER BY id`, [type]);
      const agentBefore = await world.agents.get(id);

      await expect(world.agents.remove(id, false)).resolves.toEqual({ outcome: 'busy', running: 2 });

      await expect(world.agents.get(id)).resolves.toEqual(agentBefore);
      await expect(world.sql(`SELECT * FROM tasks WHERE type = $1 ORDER BY id`, [type])).resolves.toEqual(before);
      await expect(drain(listener, uniqueName('marker'))).resolves.toEqual([]);
    });

    it('with force requeues its running tasks uncounted, deletes it and cancels its calls', async () => {
      const { type, agents } = await registerType(world, [2]);
      const id = agents[0].id;
      const [a, b, waiting] = await world.tasks.submitBatch([newTask(type), newTask(type), newTask(type)]);
      await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]));
      const waitingBefore = await world.sql(`SELECT * FROM tasks WHERE id = $1`, [waiting.id]);
      const listener = await cancelListener(world);

      await expect(world.agents.remove(id, true)).resolves.toEqual({ outcome: 'removed', requeued: 2 });

      await expect(world.agents.get(id)).resolves.toBeUndefined();
      const requeued = await world.sql(
        `SELECT id, status, attempts, started_at, lease_owner, lease_expires_at, available_at = updated_at AS due_now
           FROM tasks WHERE id = ANY($1) ORDER BY id`,
        [[a.id, b.id]],
      );
      expect(requeued).toEqual(
        [a.id, b.id].sort().map((taskId) => ({
          id: taskId,
          status: 'pending',
          attempts: 0,
          started_at: null,
          lease_owner: null,
          lease_expires_at: null,
          due_now: true,
        })),
      );
      await expect(world.sql(`SELECT * FROM tasks WHERE id = $1`, [waiting.id])).resolves.toEqual(waitingBefore);
      const heard = await drain(listener, uniqueName('marker'));
      expect(heard.map(parseCancel).sort((x, y) => x.taskId.localeCompare(y.taskId))).toEqual(
        [a.id, b.id].sort().map((taskId) => ({ taskId, agentId: id })),
      );
      expect(heard.sort()).toEqual([`${a.id} ${id}`, `${b.id} ${id}`].sort());
    });

    it('delivers the cancellations only when the removal commits', async () => {
      const own = await openStoreWorld();
      try {
        const { type, agents } = await registerType(own, [1]);
        const id = agents[0].id;
        const task = await own.tasks.submit(newTask(type));
        await own.tasks.claim(replicaId, 60_000, 64, plannerFor([type]));
        // The removal's DELETE waits on an advisory lock this test holds: it has sent its NOTIFY but not committed.
        await own.sql(`CREATE FUNCTION hold_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                         BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN OLD; END $$`);
        await own.sql(`CREATE TRIGGER hold_delete BEFORE DELETE ON agents FOR EACH ROW EXECUTE FUNCTION hold_delete()`);
        const gate = await own.client();
        await gate.query('SELECT pg_advisory_lock(4242)');
        const listener = await cancelListener(own);

        const removal = own.agents.remove(id, true);
        await pollUntil(
          () =>
            own.sql<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks
                WHERE locktype = 'advisory' AND objid = 4242 AND objsubid = 1 AND NOT granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            ),
          (rows) => rows[0]?.n === 1,
          { describe: 'the removal to wait at its DELETE' },
        );
        await expect(own.tasks.get(task?.id ?? '')).resolves.toMatchObject({ status: 'in_progress' });
        const marker = uniqueName('marker');
        await own.sql(`SELECT pg_notify('hive_cancel', $1)`, [marker]);
        await pollUntil(
          () => listener.heard,
          (heard) => heard.includes(marker),
          { describe: 'the marker on hive_cancel' },
        );
        expect(listener.heard).toEqual([marker]);

        await gate.query('SELECT pg_advisory_unlock(4242)');
        await expect(removal).resolves.toEqual({ outcome: 'removed', requeued: 1 });
        await pollUntil(
          () => listener.heard,
          (heard) => heard.length === 2,
          { describe: 'the cancellation after the commit' },
        );
        expect(listener.heard).toEqual([marker, `${task?.id} ${id}`]);
      } finally {
        await own.close();
      }
    });
  });

  describe('probes and failures', () => {
    it('takeDueProbes hands each enabled agent to one caller per interval, across two pools', async () => {
      const own = await openStoreWorld();
      try {
        const other = await own.openReplica();
        const type = uniqueName('type');
        const agents = [1, 2, 3, 4].map((n) => newAgent(type, { max_concurrent: n }));
        for (const agent of agents) await own.agents.register(agent);
        const [a1, a2, offline, disabled] = agents;
        await own.agents.recordFailure(offline.id, 'down', 1);
        await own.agents.update(disabled.id, { enabled: false });

        const [mine, theirs] = await Promise.all([
          own.agents.takeDueProbes(60_000),
          other.agents.takeDueProbes(60_000),
        ]);

        const taken = [...mine, ...theirs].sort((x, y) => x.id.localeCompare(y.id));
        expect(taken).toEqual(
          [a1, a2, offline]
            .map((a) => ({
              id: a.id,
              endpoint: a.endpoint,
              kind: 'ollama',
              max_concurrent: a.max_concurrent,
              api_key_encrypted: null,
            }))
            .sort((x, y) => x.id.localeCompare(y.id)),
        );
        await expect(own.agents.takeDueProbes(60_000)).resolves.toEqual([]);
        await expect(other.agents.takeDueProbes(60_000)).resolves.toEqual([]);

        // 0.9 × 60 s = 54 s: probed 55 s ago is due again, 50 s ago is not.
        await own.sql(`UPDATE agents SET probed_at = now() - interval '55 s' WHERE id = $1`, [a1.id]);
        await own.sql(`UPDATE agents SET probed_at = now() - interval '50 s' WHERE id = $1`, [a2.id]);
        const [again, againOther] = await Promise.all([
          own.agents.takeDueProbes(60_000),
          other.agents.takeDueProbes(60_000),
        ]);
        expect([...again, ...againOther].map((a) => a.id)).toEqual([a1.id]);
      } finally {
        await own.close();
      }
    });

    it('recordFailure counts failures, takes the agent offline at the threshold and says so once', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;

      await expect(world.agents.recordFailure(id, 'refused', 3)).resolves.toEqual({
        consecutiveFailures: 1,
        wentOffline: false,
      });
      await expect(world.agents.recordFailure(id, 'refused', 3)).resolves.toEqual({
        consecutiveFailures: 2,
        wentOffline: false,
      });
      await expect(world.agents.get(id)).resolves.toMatchObject({ offline: false, last_error: 'refused' });
      await expect(world.agents.recordFailure(id, 'timeout', 3)).resolves.toEqual({
        consecutiveFailures: 3,
        wentOffline: true,
      });
      await expect(world.agents.recordFailure(id, 'x'.repeat(5_000), 3)).resolves.toEqual({
        consecutiveFailures: 4,
        wentOffline: false,
      });
      const agent = await world.agents.get(id);
      expect(agent).toMatchObject({ offline: true, consecutive_failures: 4 });
      expect(agent?.last_error).toBe('x'.repeat(1_000));
      await expect(world.agents.recordFailure(uniqueName('missing'), 'x', 3)).resolves.toBeUndefined();
    });

    it('recordProbeSuccess brings an offline agent back, and says so only the first time', async () => {
      const { agents } = await registerType(world, [2, 2]);
      const [offline, flaky] = agents.map((a) => a.id);
      await world.agents.recordFailure(offline, 'down', 1);
      await world.agents.recordFailure(flaky, 'slow', 5);
      const serves = { models: ['llama3'] };

      await expect(world.agents.recordProbeSuccess(offline, AT, serves)).resolves.toMatchObject({ backOnline: true });
      await expect(world.agents.recordProbeSuccess(offline, AT, serves)).resolves.toMatchObject({ backOnline: false });
      await expect(world.agents.get(offline)).resolves.toMatchObject({
        offline: false,
        consecutive_failures: 0,
        last_seen: expect.any(Date) as unknown,
        models_probed_at: expect.any(Date) as unknown,
      });
      await expect(world.agents.recordProbeSuccess(flaky, AT, serves)).resolves.toMatchObject({ backOnline: false });
      await expect(world.agents.get(flaky)).resolves.toMatchObject({ offline: false, consecutive_failures: 0 });
      await expect(world.agents.recordProbeSuccess(uniqueName('missing'), AT, serves)).resolves.toBeUndefined();
    });

    it('recordProbeSuccess stores the models found, what is loaded and the most seen loaded at once', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;
      const expires = new Date(Date.now() + 60_000).toISOString();
      const loaded = [
        { name: 'llama3:latest', expires_at: expires },
        { name: 'phi3:mini', expires_at: expires },
      ];

      await expect(
        world.agents.recordProbeSuccess(id, AT, { models: ['llama3:latest', 'phi3:mini', 'nomic-embed-text'], loaded }),
      ).resolves.toEqual({ backOnline: false, defaultModelMissing: false, modelsChanged: true });
      await expect(world.agents.get(id)).resolves.toMatchObject({
        models: ['llama3:latest', 'nomic-embed-text', 'phi3:mini'], // sorted, as stored
        loaded_models: loaded,
        loaded_capacity: 2,
        last_error: null, // llama3 is served as llama3:latest
      });

      // Fewer loaded now: the capacity seen stays; the same models are no change.
      await expect(
        world.agents.recordProbeSuccess(id, AT, {
          models: ['llama3:latest', 'phi3:mini', 'nomic-embed-text'],
          loaded: [],
        }),
      ).resolves.toMatchObject({ modelsChanged: false });
      await expect(world.agents.get(id)).resolves.toMatchObject({ loaded_models: [], loaded_capacity: 2 });
    });

    it('recordProbeSuccess notes a default model the agent does not serve in last_error', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;

      await expect(world.agents.recordProbeSuccess(id, AT, { models: ['mistral:7b', 'phi3:mini'] })).resolves.toEqual({
        backOnline: false,
        defaultModelMissing: true,
        modelsChanged: true,
      });
      await expect(world.agents.get(id)).resolves.toMatchObject({
        models: ['mistral:7b', 'phi3:mini'],
        last_error: 'its default model llama3 is not among the models it serves (mistral:7b, phi3:mini)',
      });
      await expect(world.agents.recordProbeSuccess(id, AT, { models: [] })).resolves.toMatchObject({
        defaultModelMissing: true,
      });
      await expect(world.agents.get(id)).resolves.toMatchObject({
        last_error: 'its default model llama3 is not among the models it serves (none)',
      });
    });

    it('clears its note once the default model is served again, and leaves other errors as they were', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;
      await world.agents.recordProbeSuccess(id, AT, { models: ['mistral:7b'] });
      await world.agents.recordProbeSuccess(id, AT, { models: ['llama3', 'mistral:7b'] });
      await expect(world.agents.get(id)).resolves.toMatchObject({ last_error: null });

      await world.agents.recordFailure(id, 'HTTP 500: boom', 5);
      await world.agents.recordProbeSuccess(id, AT, { models: ['llama3'] });
      await expect(world.agents.get(id)).resolves.toMatchObject({ last_error: 'HTTP 500: boom' });
    });

    it('writes nothing a probe or call of the old endpoint found onto an agent that moved since', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;
      await world.agents.update(id, { endpoint: 'http://elsewhere:11434' });

      await expect(world.agents.recordProbeSuccess(id, AT, { models: ['old:1b'] })).resolves.toBeUndefined();
      await world.agents.dropModel(id, AT, 'llama3');
      await expect(world.agents.get(id)).resolves.toMatchObject({ models: ['llama3'], models_probed_at: null });
    });

    it('dropModel takes one model off the list; takeProbe hands one enabled agent out at once', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;
      await world.agents.recordProbeSuccess(id, AT, { models: ['llama3', 'phi3:mini'] });

      await world.agents.dropModel(id, AT, 'phi3:mini');

      await expect(world.agents.get(id)).resolves.toMatchObject({ models: ['llama3'] });
      await expect(world.agents.takeProbe(id)).resolves.toMatchObject({ id, kind: 'ollama' });
      await world.agents.update(id, { enabled: false });
      await expect(world.agents.takeProbe(id)).resolves.toBeUndefined();
    });
  });

  describe('pause', () => {
    it('keeps a paused agent out of claims until its time, the longer pause standing', async () => {
      const { type, agents } = await registerType(world);
      const id = agents[0].id;
      await world.tasks.submit(newTask(type));

      await world.agents.pause(id, 60_000);
      await world.agents.pause(id, 10); // a shorter one later does not cut it
      const paused = await world.agents.get(id);
      expect(paused?.paused_until?.getTime()).toBeGreaterThan(Date.now() + 30_000);
      const seen: PlannerView[] = [];
      await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type], 64, seen));
      expect(seen.flatMap((view) => view.agents.map((a) => a.id))).not.toContain(id);

      await world.sql(`UPDATE agents SET paused_until = now() - interval '1 ms' WHERE id = $1`, [id]);
      await expect(world.agents.get(id)).resolves.toMatchObject({ paused_until: null }); // past: not shown
      const claim = await world.tasks.claim(replicaId, 60_000, 64, plannerFor([type]));
      expect(claim.tasks.map((t) => t.agent.id)).toEqual([id]);
    });
  });

  describe('API keys and moves', () => {
    it('stores an encrypted key as given, says that it has one, and removes it on null', async () => {
      const agent = newAgent(uniqueName('type'), { api_key_encrypted: 'v1.aaa.bbb.ccc' });
      await world.agents.register(agent);

      await expect(world.agents.get(agent.id)).resolves.toMatchObject({ has_api_key: true });
      await expect(world.agents.hasStoredKeys()).resolves.toBe(true);
      const [address] = await world.agents.takeDueProbes(60_000).then((due) => due.filter((a) => a.id === agent.id));
      expect(address).toMatchObject({ api_key_encrypted: 'v1.aaa.bbb.ccc' });

      await world.agents.update(agent.id, { api_key_encrypted: null });
      await expect(world.agents.get(agent.id)).resolves.toMatchObject({ has_api_key: false });
      await world.agents.update(agent.id, { max_concurrent: 3 }); // a change without the key leaves it
      await expect(world.agents.get(agent.id)).resolves.toMatchObject({ has_api_key: false, max_concurrent: 3 });
    });

    it('removes the key when the agent moves, unless a new one comes with the move', async () => {
      const agent = newAgent(uniqueName('type'), { api_key_encrypted: 'v1.old.old.old' });
      await world.agents.register(agent);

      await world.agents.update(agent.id, { model: 'other:1b' }); // not a move: the key stays
      await expect(world.agents.get(agent.id)).resolves.toMatchObject({ has_api_key: true });
      await world.agents.update(agent.id, { endpoint: 'http://elsewhere:1/' });
      await expect(world.agents.get(agent.id)).resolves.toMatchObject({ has_api_key: false });
      await world.agents.update(agent.id, { endpoint: 'http://third:1/', api_key_encrypted: 'v1.new.new.new' });
      const [row] = await world.sql<{ key: string }>(`SELECT api_key_encrypted AS key FROM agents WHERE id = $1`, [
        agent.id,
      ]);
      expect(row?.key).toBe('v1.new.new.new');
    });

    it('forgets what a moved agent served and held, and assumes a new default model until the next probe', async () => {
      const { agents } = await registerType(world);
      const id = agents[0].id;
      const expires = new Date(Date.now() + 60_000).toISOString();
      await world.agents.recordProbeSuccess(id, AT, {
        models: ['llama3', 'phi3:mini'],
        loaded: [{ name: 'llama3', expires_at: expires }],
      });

      await world.agents.update(id, { model: 'qwen2:7b' });
      await expect(world.agents.get(id)).resolves.toMatchObject({
        model: 'qwen2:7b',
        models: ['llama3', 'phi3:mini', 'qwen2:7b'],
        loaded_capacity: 1,
      });

      await world.agents.update(id, { endpoint: 'http://elsewhere:11434' });
      await expect(world.agents.get(id)).resolves.toMatchObject({
        models: ['qwen2:7b'],
        loaded_models: [],
        loaded_capacity: 0,
        recent_models: {},
      });
    });
  });
});
