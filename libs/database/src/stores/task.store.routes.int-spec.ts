import {
  newAgent,
  newTask,
  openStoreWorld,
  taskRow,
  uniqueName,
  type StoreWorld,
} from '../../../../test/support/store-fixture.js';
import type { NewAgent } from './agents/agent.types.js';
import type { ClaimableAgent, ClaimPlanner, Placement, TaskRoute } from './tasks/claim.types.js';

/**
 * TaskStore on a real PostgreSQL, for tasks that name a model: which submissions an agent can run, the claim of a
 * route, what a claim records of the models it sent, and the reroute after an agent said a model is missing.
 */
describe('TaskStore (models and routes)', () => {
  let world: StoreWorld;
  const replicaId = 'replica-a';

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** A registered agent of a new specialty whose probe found `models`. */
  async function agentServing(models: string[], overrides: Partial<NewAgent> = {}): Promise<NewAgent> {
    const agent = newAgent(uniqueName('type'), { model: models[0] ?? 'llama3', ...overrides });
    await world.agents.register(agent);
    await world.agents.recordProbeSuccess(agent.id, agent.endpoint, { models });
    return agent;
  }

  /**
   * A planner that takes the given routes only (1 slot each, at most), runs each task on the first of `agents` with
   * room that can run it, and records `recent` for the agents that got one.
   */
  function routePlanner(routes: TaskRoute[], agents: NewAgent[]): ClaimPlanner {
    return (locked, load) => ({
      freeSlots: 0,
      demand: routes.map((route) => ({ ...route, slots: 10 })),
      place(tasks) {
        const running = new Map(load);
        const placements: Placement[] = [];
        const recent = new Map<string, Record<string, number>>();
        for (const task of tasks) {
          const agent = locked.find(
            (a: ClaimableAgent) =>
              agents.some((mine) => mine.id === a.id) &&
              (running.get(a.id) ?? 0) < a.max_concurrent &&
              (task.type === '' || task.type === a.specialty) &&
              a.models.includes(task.model === '' ? a.model : task.model),
          );
          if (agent === undefined) continue;
          running.set(agent.id, (running.get(agent.id) ?? 0) + 1);
          const model = task.model === '' ? agent.model : task.model;
          placements.push({ task, agent, model });
          recent.set(agent.id, { ...recent.get(agent.id), [model]: 1_700_000_000_000 });
        }
        return { placements, recent };
      },
    });
  }

  describe('submit', () => {
    it('stores a task an agent can run: by type, by model, by both, and a model named without its tag', async () => {
      const agent = await agentServing(['llama3:latest', 'phi3:mini']);
      const type = agent.specialty;
      const accepted = [
        newTask(type),
        newTask('', { model: 'phi3:mini' }),
        newTask(type, { model: 'phi3:mini' }),
        newTask('', { model: 'llama3' }), // Ollama's llama3 is llama3:latest
      ];
      for (const task of accepted) await expect(world.tasks.submit(task)).resolves.toBeDefined();
      await expect(world.tasks.submitBatch(accepted)).resolves.toHaveLength(4);
    });

    it('refuses a model nobody serves, a model served only by another type, and a type whose default is gone', async () => {
      const coder = await agentServing(['qwen2:7b']);
      const writer = await agentServing(['mistral:7b'], { model: 'gemma:2b' }); // its default is not served
      const refused = [
        newTask('', { model: uniqueName('model') }),
        newTask(writer.specialty, { model: 'qwen2:7b' }),
        newTask(writer.specialty),
      ];
      for (const task of refused) await expect(world.tasks.submit(task)).resolves.toBeUndefined();
      await expect(world.tasks.submitBatch([newTask(coder.specialty), ...refused])).resolves.toEqual([]);
      const each = await world.tasks.submitEach([newTask(coder.specialty), ...refused]);
      expect(each.map((t) => t !== undefined)).toEqual([true, false, false, false]);
    });

    it('stores the operation and the input, and reads them back', async () => {
      const model = uniqueName('embedder');
      const agent = await agentServing([model]);
      const input = { input: ['a', 'b'], options: { truncate: true } };
      const stored = await world.tasks.submit(newTask('', { model, operation: 'embed', input }));
      expect(stored).toMatchObject({ type: null, model, operation: 'embed' });

      await expect(world.tasks.get(stored?.id ?? '')).resolves.toMatchObject({ input, operation: 'embed' });
      const page = await world.tasks.list({ model, limit: 10, offset: 0 });
      expect(page.tasks.map((t) => t.id)).toEqual([stored?.id]);
      expect(page.filtered).toBe(1);
      await world.agents.remove(agent.id, true);
    });
  });

  describe('claim', () => {
    it('takes the tasks of the routes asked for, with their operation, model and input, and records what was sent', async () => {
      const [main, side] = [uniqueName('main'), uniqueName('side')];
      const agent = await agentServing([main, side], { max_concurrent: 4 });
      const chat = { messages: [{ role: 'user', content: 'hi' }] };
      const byModel = await world.tasks.submit(newTask('', { model: side, operation: 'chat', input: chat }));
      const byType = await world.tasks.submit(newTask(agent.specialty));
      const other = await world.tasks.submit(newTask('', { model: main }));

      const claim = await world.tasks.claim(
        replicaId,
        60_000,
        64,
        routePlanner(
          [
            { type: '', model: side },
            { type: agent.specialty, model: '' },
          ],
          [agent],
        ),
      );

      expect(claim.tasks.map((t) => [t.id, t.operation, t.runModel]).sort()).toEqual(
        [
          [byModel?.id, 'chat', side],
          [byType?.id, 'generate', main],
        ].sort(),
      );
      expect(claim.tasks.find((t) => t.id === byModel?.id)).toMatchObject({ input: chat, model: side });
      await expect(taskRow(world, other?.id ?? '')).resolves.toMatchObject({ status: 'pending' });
      await expect(world.agents.get(agent.id)).resolves.toMatchObject({
        recent_models: { [side]: 1_700_000_000_000, [main]: 1_700_000_000_000 },
      });
    });
  });

  describe('reroute', () => {
    /** A task for `model` running on `on`, claimed under replicaId. */
    async function runningOn(on: NewAgent, model: string, maxAttempts = 3) {
      const task = await world.tasks.submit(newTask('', { model, max_attempts: maxAttempts }));
      const claim = await world.tasks.claim(replicaId, 60_000, 64, routePlanner([{ type: '', model }], [on]));
      expect(claim.tasks.map((t) => t.id)).toEqual([task?.id]);
      return { taskId: task?.id ?? '', agentId: on.id, replicaId };
    }

    it('puts the task back at once for another agent that serves the model, the attempt counted', async () => {
      const model = uniqueName('shared');
      const gone = await agentServing([model]);
      await agentServing([model]);
      const held = await runningOn(gone, model);
      await world.agents.dropModel(gone.id, gone.endpoint, model);

      await expect(world.tasks.reroute(held, `HTTP 404: model '${model}' not found`)).resolves.toBe('pending');
      const row = await taskRow(world, held.taskId);
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 1,
        assigned_agent: gone.id, // the previous attempt's agent, which placement avoids
        error: `HTTP 404: model '${model}' not found`,
        lease_owner: null,
        completed_at: null,
      });
      expect(row.due_in_s).toBeLessThanOrEqual(0);
      await expect(world.tasks.reroute(held, 'again')).resolves.toBeUndefined(); // no longer held
    });

    it('fails the task when no other agent serves the model', async () => {
      const model = uniqueName('lonely');
      const alone = await agentServing([model]);
      const held = await runningOn(alone, model);

      await expect(world.tasks.reroute(held, 'gone')).resolves.toBe('failed');
      const row = await taskRow(world, held.taskId);
      expect(row).toMatchObject({ status: 'failed', error: 'gone', lease_owner: null });
      expect(row.completed_at).not.toBeNull();
    });

    it('fails the task on its last attempt, whoever else serves the model', async () => {
      const model = uniqueName('last');
      const first = await agentServing([model]);
      await agentServing([model]);
      const held = await runningOn(first, model, 1);

      await expect(world.tasks.reroute(held, 'gone')).resolves.toBe('failed');
      await expect(taskRow(world, held.taskId)).resolves.toMatchObject({ status: 'failed', attempts: 1 });
    });
  });
});
