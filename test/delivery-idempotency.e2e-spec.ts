import { HiveApi, messages, type NewTask, type SubmittedTask, type Task } from './support/api.js';
import { AgentFleet, closeAll, suiteFixture } from './support/hive-fixture.js';
import { ReplicaSet } from './support/replica-set.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { createKey, TEST_ADMIN_KEY } from './support/test-keys.js';

/** A submission's answer, with the header that says whether it replayed an earlier one. */
interface Answer<T> {
  status: number;
  /** The idempotent-replayed header; null when absent. */
  replayed: string | null;
  body: T;
}

/** POSTs `body` (JSON, or a string sent as is) to Hive at `url` with an Idempotency-Key, as `apiKey`. */
async function post<T = unknown>(
  url: string,
  path: string,
  body: unknown,
  options: { key?: string; apiKey?: string } = {},
): Promise<Answer<T>> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: {
      'x-api-key': options.apiKey ?? TEST_ADMIN_KEY,
      'content-type': 'application/json',
      ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: JSON.parse(text) as T };
}

/** A batch's answer. */
interface TaskBatch<T> {
  tasks: T[];
}

/** A request in flight, and whether its answer has arrived yet (set in its .then). */
function pending<T>(answer: Promise<T>): { answer: Promise<T>; settled(): boolean } {
  let done = false;
  const tracked = answer.finally(() => (done = true));
  return { answer: tracked, settled: () => done };
}

let unique = 0;
/** An Idempotency-Key no other test uses. */
const freshKey = (label: string): string => `${label}-${process.pid}-${++unique}`;

/** Idempotency-Key on POST /api/tasks and /api/tasks/batch (in-process Hive, real PostgreSQL). */
describe('delivery: Idempotency-Key (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  let api: HiveApi;
  let url: string;
  let gates: (() => void)[] = [];

  /** A disabled agent of `specialty`: its tasks may be submitted, and stay pending. */
  async function parkedType(specialty: string): Promise<string> {
    const agent = await world().agents.start();
    await api.registerAgent({ id: `${specialty}-1`, endpoint: agent.url, specialty, enabled: false });
    return specialty;
  }

  const countOf = async (type: string): Promise<number> => (await api.tasksOfType(type)).tasks.length;

  beforeAll(() => {
    api = world().api;
    url = api.url;
  });
  afterEach(() => {
    for (const open of gates) open();
    gates = [];
  });

  it('the same key with the same body: 201, then 200 with idempotent-replayed: true and the same task; one task stored', async () => {
    const type = await parkedType('idsame');
    const key = freshKey('same');
    const body = { type, priority: 4, context: { prompt: 'once only' } };

    const first = await post<SubmittedTask>(url, '/api/tasks', body, { key });
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const second = await post<SubmittedTask>(url, '/api/tasks', body, { key });
    expect(second.status).toBe(200);
    expect(second.replayed).toBe('true');
    // The task the first request stored, as GET shows it now.
    expect(second.body).toEqual(await world().api.getTask(first.body.id));
    expect(second.body).toMatchObject(first.body);
    const third = await post<SubmittedTask>(url, '/api/tasks', body, { key });
    expect({ status: third.status, replayed: third.replayed, id: third.body.id }).toEqual({
      status: 200,
      replayed: 'true',
      id: first.body.id,
    });

    const { tasks } = await api.tasksOfType(type);
    expect(tasks.map((t) => t.id)).toEqual([first.body.id]);
  });

  it('the order of the keys of the JSON body does not matter', async () => {
    const type = await parkedType('idorder');
    const key = freshKey('order');
    const first = await post<SubmittedTask>(
      url,
      '/api/tasks',
      `{"type":"${type}","priority":2,"context":{"prompt":"p","options":{"temperature":0.1,"seed":7}}}`,
      { key },
    );
    expect(first.status).toBe(201);

    const reordered = await post<SubmittedTask>(
      url,
      '/api/tasks',
      `{"context":{"options":{"seed":7,"temperature":0.1},"prompt":"p"},"priority":2,"type":"${type}"}`,
      { key },
    );
    expect({ status: reordered.status, replayed: reordered.replayed, id: reordered.body.id }).toEqual({
      status: 200,
      replayed: 'true',
      id: first.body.id,
    });
    expect(await countOf(type)).toBe(1);
  });

  it('the same key with another body is refused with 422; nothing more is stored', async () => {
    const type = await parkedType('idother');
    const key = freshKey('other');
    const first = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'a' } }, { key });
    expect(first.status).toBe(201);

    for (const body of [
      { type, context: { prompt: 'b' } },
      { type, priority: 5, context: { prompt: 'a' } },
    ]) {
      const other = await post(url, '/api/tasks', body, { key });
      expect(other.status).toBe(422);
      expect(other.replayed).toBeNull();
      expect(messages(other.body).join('\n')).toMatch(/Idempotency-Key/i);
    }
    // The same key on the batch route is another request too, even for the same task.
    const batch = await post(url, '/api/tasks/batch', { tasks: [{ type, context: { prompt: 'a' } }] }, { key });
    expect(batch.status).toBe(422);

    expect((await api.tasksOfType(type)).tasks.map((t) => t.id)).toEqual([first.body.id]);
    // The original request still replays.
    const again = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'a' } }, { key });
    expect({ status: again.status, id: again.body.id }).toEqual({ status: 200, id: first.body.id });
  });

  it('a key is scoped to its API key: the same key and body under another API key store a new task (201)', async () => {
    const type = await parkedType('idscope');
    const key = freshKey('scope');
    const body = { type, context: { prompt: 'mine' } };
    const operator = await createKey(url, 'operator', 'idempotency operator');

    const asAdmin = await post<SubmittedTask>(url, '/api/tasks', body, { key });
    const asOperator = await post<SubmittedTask>(url, '/api/tasks', body, { key, apiKey: operator.key });
    expect([asAdmin.status, asOperator.status]).toEqual([201, 201]);
    expect(asOperator.replayed).toBeNull();
    expect(asOperator.body.id).not.toBe(asAdmin.body.id);

    // Each replays its own.
    const replayAdmin = await post<SubmittedTask>(url, '/api/tasks', body, { key });
    const replayOperator = await post<SubmittedTask>(url, '/api/tasks', body, { key, apiKey: operator.key });
    expect([replayAdmin.body.id, replayOperator.body.id]).toEqual([asAdmin.body.id, asOperator.body.id]);
    expect([replayAdmin.replayed, replayOperator.replayed]).toEqual(['true', 'true']);
    expect(await countOf(type)).toBe(2);
  });

  it('a batch with a key: the replay answers the same ids, in the order given; none stored twice', async () => {
    const type = await parkedType('idbatch');
    const key = freshKey('batch');
    const body = { tasks: ['one', 'two', 'three', 'four'].map((prompt) => ({ type, context: { prompt } })) };

    const first = await post<TaskBatch<SubmittedTask>>(url, '/api/tasks/batch', body, { key });
    expect(first.status).toBe(201);
    expect(first.body.tasks.map((t) => t.context.prompt)).toEqual(['one', 'two', 'three', 'four']);
    const replay = await post<TaskBatch<SubmittedTask>>(url, '/api/tasks/batch', body, { key });
    expect(replay.status).toBe(200);
    expect(replay.replayed).toBe('true');
    expect(replay.body.tasks.map((t) => t.id)).toEqual(first.body.tasks.map((t) => t.id));
    // The tasks the first request stored, in its order, as GET shows them now.
    expect(replay.body).toEqual({ tasks: await Promise.all(first.body.tasks.map((t) => world().api.getTask(t.id))) });
    expect(replay.body).toMatchObject(first.body);
    expect(await countOf(type)).toBe(4);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['a tab', 'with\ttab'],
    ['a character beyond ASCII', 'clé'],
    ['only spaces', '   '],
    ['nothing', ''],
  ])('a malformed key (%s) is refused with 400 and stores nothing', async (_, key) => {
    const type = await parkedType(`idbad${++unique}`);
    const res = await post(url, '/api/tasks', { type, context: { prompt: 'x' } }, { key });
    expect(res.status).toBe(400);
    expect(messages(res.body)).toEqual([expect.stringContaining('Idempotency-Key') as unknown]);
    expect(await countOf(type)).toBe(0);
  });

  it('a key of 255 printable characters is accepted', async () => {
    const type = await parkedType('idlongest');
    const key = `${freshKey('max')}-`.padEnd(255, '~');
    const first = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'x' } }, { key });
    const second = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'x' } }, { key });
    expect([first.status, second.status, second.replayed]).toEqual([201, 200, 'true']);
    expect(second.body.id).toBe(first.body.id);
  });

  it('a request whose task no agent can run is refused (400) without taking the key: the key stays usable', async () => {
    const key = freshKey('unserved');
    const unserved = await post(url, '/api/tasks', { type: 'idnobody', context: { prompt: 'x' } }, { key });
    expect(unserved.status).toBe(400);
    expect(await countOf('idnobody')).toBe(0);

    // The same key for another request: a first use, not a conflict.
    const type = await parkedType('idserved');
    const served = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'x' } }, { key });
    expect(served.status).toBe(201);
    expect(served.replayed).toBeNull();

    // And the refused request itself, once an agent can run it, is stored as a first use too.
    const again = freshKey('unserved-again');
    expect((await post(url, '/api/tasks', { type: 'idlater', context: { prompt: 'y' } }, { key: again })).status).toBe(
      400,
    );
    await parkedType('idlater');
    const later = await post(url, '/api/tasks', { type: 'idlater', context: { prompt: 'y' } }, { key: again });
    expect({ status: later.status, replayed: later.replayed }).toEqual({ status: 201, replayed: null });
    expect(await countOf('idlater')).toBe(1);
  });

  it('once its time (IDEMPOTENCY_TTL_HOURS) has run out, a key is free again: another body stores a new task', async () => {
    const type = await parkedType('idexpired');
    const key = freshKey('expired');
    const first = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'old' } }, { key });
    expect(first.status).toBe(201);
    // The key's time runs out (as IDEMPOTENCY_TTL_HOURS after its use would).
    const expired = await world().db.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1 RETURNING key`,
      [key],
    );
    expect(expired).toHaveLength(1);

    const next = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'new' } }, { key });
    expect({ status: next.status, replayed: next.replayed }).toEqual({ status: 201, replayed: null });
    expect(next.body.id).not.toBe(first.body.id);
    // From now on the key stands for the new request.
    const replay = await post<SubmittedTask>(url, '/api/tasks', { type, context: { prompt: 'new' } }, { key });
    expect({ status: replay.status, id: replay.body.id }).toEqual({ status: 200, id: next.body.id });
    expect(await countOf(type)).toBe(2);
  });

  it('with ?wait, a replay waits too, and both answer the one completed task once its agent has answered', async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    gates.push(open);
    const agent: OllamaAgent = await world().agents.start({ behavior: { kind: 'ok', response: 'waited', gate } });
    await api.registerAgent({ id: 'idwait-1', endpoint: agent.url, specialty: 'idwait' });
    const key = freshKey('wait');
    const body: NewTask = { type: 'idwait', context: { prompt: 'patience' } };

    const first = pending(post<Task>(url, '/api/tasks?wait=30', body, { key }));
    await agent.waitForRequests(1);
    const replay = pending(post<Task>(url, '/api/tasks?wait=30', body, { key }));
    // A short replay that times out: the replay path waits for the task rather than answering as stored.
    const short = await post<Task>(url, '/api/tasks?wait=1', body, { key });
    expect(short).toMatchObject({ status: 200, replayed: 'true', body: { status: 'in_progress', result: null } });
    expect([first.settled(), replay.settled()]).toEqual([false, false]);

    open();
    const [a, b] = await Promise.all([first.answer, replay.answer]);
    expect([a.status, a.replayed, b.status, b.replayed]).toEqual([200, null, 200, 'true']);
    expect(b.body.id).toBe(a.body.id);
    for (const answer of [a, b]) {
      expect(answer.body).toMatchObject({ status: 'completed', result: { response: 'waited' } });
    }
    expect(b.body).toEqual(await api.getTask(a.body.id));
    expect(agent.requests).toHaveLength(1);
    expect(await countOf('idwait')).toBe(1);
  });
});

/** Two replicas on one database: concurrent requests with the same key store one task, whichever answers first. */
describe('delivery: Idempotency-Key across replicas (two real processes on one PostgreSQL database)', () => {
  const replicas = new ReplicaSet();
  const agents = new AgentFleet();

  const spawn = (replicaId: string) => replicas.spawn(replicaId);

  beforeAll(async () => {
    await replicas.open();
  });
  afterEach(async () => {
    await replicas.stopAll();
  });
  afterAll(async () => {
    await closeAll([() => agents.closeAll(), () => replicas.close()]);
  });

  it('20 pairs of concurrent requests, one of each pair to each replica: per pair one 201 and one replay of it', async () => {
    const [a, b] = await Promise.all([spawn('replica-a'), spawn('replica-b')]);
    const agent = await agents.start();
    // Disabled: the tasks stay pending, nothing else writes to them.
    await new HiveApi(a.url).registerAgent({
      id: 'idrace-1',
      endpoint: agent.url,
      specialty: 'idrace',
      enabled: false,
    });

    const pairs = Array.from({ length: 20 }, (_, i) => ({ key: freshKey(`race-${i}`), prompt: `race ${i}` }));
    const answers = await Promise.all(
      pairs.map(({ key, prompt }) => {
        const body = { type: 'idrace', context: { prompt } };
        return Promise.all([
          post<SubmittedTask>(a.url, '/api/tasks', body, { key }),
          post<SubmittedTask>(b.url, '/api/tasks', body, { key }),
        ]);
      }),
    );

    const outcomes = answers.map((pair) =>
      pair
        .map((r) => `${r.status}${r.replayed === 'true' ? ' replayed' : ''}`)
        .sort()
        .join(', '),
    );
    expect(outcomes).toEqual(pairs.map(() => '200 replayed, 201'));
    // Each pair's two answers are the same task: the one its request asked for.
    expect(answers.map(([x, y]) => [y.body.id === x.body.id, x.body.context.prompt, y.body.context.prompt])).toEqual(
      pairs.map(({ prompt }) => [true, prompt, prompt]),
    );
    const ids = answers.map(([x]) => x.body.id);
    expect(new Set(ids).size).toBe(20);

    const { tasks } = await new HiveApi(b.url).tasksOfType('idrace');
    expect(tasks).toHaveLength(20);
    expect(new Set(tasks.map((t) => t.id))).toEqual(new Set(ids));
    expect(tasks.map((t) => t.context.prompt).sort()).toEqual(pairs.map((p) => p.prompt).sort());
  }, 90_000);
});
