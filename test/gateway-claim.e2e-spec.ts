import { BadRequestError } from 'openai';
import { suiteFixture } from './support/hive-fixture.js';
import { DIALECT_STREAMS, gatewayWorld, rejectionOf, type Seen } from './support/gateway-world.js';

/**
 * A gateway call begins on its agent as soon as the claim that stores it has placed it, while that claim commits
 * (docs/architecture.md, "The gateway"): its client hears of it only once it is stored, and a claim that could not be
 * stored aborts what it began.
 */
describe('gateway: calls begun by the claim that stores them (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const w = gatewayWorld(world);

  it.each(DIALECT_STREAMS)(
    '%s (stream: %s): once the answer arrived, its task can be read at once, run by the agent named',
    async (dialect, stream) => {
      const { id, model } = await w.serve('stored-first');
      const seen: Seen = { pieces: [] };

      await expect(w.gateway().chat(dialect, model, 'stored first', { stream, seen })).resolves.toBe(
        'echo: stored first',
      );

      const task = await w.api().getTask(seen.headers?.get('x-hive-task-id') ?? '');
      expect(task).toMatchObject({ assigned_agent: id, attempts: 1, gateway: dialect });
      expect(['in_progress', 'completed']).toContain(task.status);
    },
  );

  it('a call whose claim cannot be stored (a character PostgreSQL refuses) is refused with a 400, nothing kept, any agent call it began aborted', async () => {
    // Slow: a request that reached the agent before the claim failed is still open when Hive aborts it.
    const { agent, model } = await w.serve('unstorable', { behavior: { kind: 'ok', delayMs: 5_000 } });

    const error = await rejectionOf(
      w
        .gateway()
        .openai()
        .chat.completions.create({ model, messages: [{ role: 'user', content: 'a \u0000 b' }] }),
    );

    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toContain('cannot be stored');
    await expect(w.tasksOf(model)).resolves.toEqual([]);
    // Whether the request reached the agent before the abort is a race; if it did, Hive closed it unanswered.
    if (agent.requests.length > 0) await agent.waitForAborts(agent.requests.length);
    expect(agent.aborted).toHaveLength(agent.requests.length);
  });
});
