import { messages, type SubmittedTask } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';

/**
 * Single submissions that arrive together are stored together (one statement), each on its own: one with a type no
 * agent serves, or a value PostgreSQL refuses, fails alone, and the others are stored, in their order of arrival.
 */
describe('POST /api/tasks under concurrency (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture();

  it('stores every valid submission of a burst and refuses only the faulty ones, each with its own answer', async () => {
    const { api, agents, db } = world();
    const agent = await agents.start();
    // Disabled: the tasks stay pending, so the stored rows are read as they were submitted.
    await api.registerAgent({ id: 'burst-1', endpoint: agent.url, specialty: 'burst', enabled: false });
    const good = Array.from({ length: 60 }, (_, i) => ({ type: 'burst', priority: 3, context: { prompt: `#${i}` } }));
    const unserved = { type: 'nobody-serves-this', context: { prompt: 'nowhere' } };
    // JSON allows a NUL character in a string; PostgreSQL's jsonb does not.
    const unstorable = { type: 'burst', context: { prompt: 'a\u0000b' } };

    const answers = await Promise.all(
      [...good.slice(0, 30), unserved, unstorable, ...good.slice(30)].map((task) =>
        api.request<SubmittedTask>('POST', '/api/tasks', task),
      ),
    );
    const refused = answers.splice(30, 2);

    expect(answers.map((a) => a.status)).toEqual(good.map(() => 201));
    expect(answers.map((a) => a.body.context)).toEqual(good.map((t) => t.context));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(good.length);
    expect(refused.map((a) => ({ status: a.status, messages: messages(a.body) }))).toEqual([
      { status: 400, messages: [expect.stringContaining('"nobody-serves-this"') as unknown] },
      { status: 400, messages: [expect.stringContaining('cannot be stored') as unknown] },
    ]);
    const stored = await db.query<{ id: string }>(`SELECT id FROM tasks WHERE type = 'burst' ORDER BY created_at, id`);
    expect(stored.map((r) => r.id).sort()).toEqual(answers.map((a) => a.body.id).sort());
  });
});
