import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HiveApi, ISO_8601, messages, type ErrorBody, type NewTask, type Task } from './support/api.js';
import { AgentFleet, closeAll, suiteFixture } from './support/hive-fixture.js';
import { ReplicaSet } from './support/replica-set.js';
import { parseSamples, sampleValue } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';
import type { AgentBehavior, OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';
import { openEventStream, type EventStream, type SseEvent } from './support/sse-client.js';
import { createKey, TEST_ADMIN_KEY } from './support/test-keys.js';

/** Event ids: a status event's is its seq × ID_STEP, a token's its attempt's in_progress seq × ID_STEP + its number. */
const ID_STEP = 1_000_000_000;

/** The data of a status event. */
interface StatusData {
  seq: number;
  /** A task's statuses, and `retrying`: an attempt failed, and the task goes back to the queue. */
  status: Task['status'] | 'retrying';
  at: string;
  agent?: string;
  attempt?: number;
  error?: string;
  retry_at?: string;
  reason?: string;
  result?: Task['result'];
}

/** A promise the test settles: the agent's answer waits for open(). */
interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const statusEvents = (stream: EventStream): SseEvent[] => stream.events.filter((e) => e.event === 'status');
const tokenEvents = (stream: EventStream): SseEvent[] => stream.events.filter((e) => e.event === 'token');
const statuses = (stream: EventStream): string[] => statusEvents(stream).map((e) => e.json<StatusData>().status);
const isStatus =
  (status: StatusData['status']) =>
  (e: SseEvent): boolean =>
    e.event === 'status' && e.json<StatusData>().status === status;
/** The text the token events carried, in the order received. */
const streamedText = (stream: EventStream): string =>
  tokenEvents(stream)
    .map((e) => e.json<{ content?: string }>().content ?? '')
    .join('');

/** Each id greater than the one before it. */
function expectIncreasingIds(events: readonly SseEvent[]): void {
  const ids = events.map((e) => Number(e.id));
  expect(ids.every((id) => Number.isSafeInteger(id))).toBe(true);
  expect(ids.slice(1).filter((id, i) => id <= ids[i])).toEqual([]);
}

/**
 * The token events of one attempt, numbered 1..n after the id of its in_progress event, each with its own id (an
 * id repeats no previous one: the parser keeps the last id for events that have none).
 */
function expectTokenIds(stream: EventStream): void {
  const inProgress = statusEvents(stream).findLast(isStatus('in_progress'));
  expect(inProgress).toBeDefined();
  const base = Number(inProgress?.id);
  expect(tokenEvents(stream).map((e) => Number(e.id))).toEqual(tokenEvents(stream).map((_, i) => base + i + 1));
}

/** `count` words, each different from its neighbours, so that a piece out of order changes the text. */
const manyWords = (count: number): string => Array.from({ length: count }, (_, i) => `w${i}`).join(' ');

/** GET /api/tasks/:id/events: a task's status history and streamed answer, live (in-process Hive, real PostgreSQL). */
describe('delivery: live events (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  let api: HiveApi;
  let streams: EventStream[] = [];
  let gates: Gate[] = [];

  const eventsUrl = (id: string): string => `${api.url}/api/tasks/${id}/events`;

  /** An event stream as the admin (or `key`); closed after the test. */
  async function follow(
    id: string,
    options: { key?: string | null; lastEventId?: string; headers?: Record<string, string> } = {},
  ): Promise<EventStream> {
    const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
    const stream = await openEventStream(eventsUrl(id), {
      headers: { ...(key === null ? {} : { 'x-api-key': key }), ...options.headers },
      ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    });
    streams.push(stream);
    return stream;
  }

  /** An agent of its own for `specialty`, one per test. */
  async function agentFor(specialty: string, behavior: AgentBehavior = { kind: 'ok' }): Promise<OllamaAgent> {
    const agent = await world().agents.start({ behavior });
    await api.registerAgent({ id: `${specialty}-1`, endpoint: agent.url, specialty, max_concurrent: 2 });
    return agent;
  }

  /** A gate afterEach opens if the test did not. */
  function tracked(): Gate {
    const g = gate();
    gates.push(g);
    return g;
  }

  /** A task whose agent holds its answer until the gate opens, followed from its start. */
  async function gatedTask(
    specialty: string,
    task: Partial<NewTask>,
    reply: { response?: string; chunkDelayMs?: number } = {},
  ): Promise<{ id: string; agent: OllamaAgent; answer: Gate; stream: EventStream }> {
    const answer = tracked();
    const agent = await agentFor(specialty, { kind: 'ok', ...reply, gate: answer.promise });
    const { id } = await api.submitTask({ type: specialty, context: { prompt: 'go' }, ...task });
    const stream = await follow(id);
    await agent.waitForRequests(1);
    return { id, agent, answer, stream };
  }

  beforeAll(() => {
    api = world().api;
  });
  afterEach(() => {
    for (const g of gates) g.open();
    gates = [];
    for (const stream of streams) stream.close();
    streams = [];
  });

  it('follows a task through its life: pending, in_progress (agent, attempt), completed with the result; the stream then ends', async () => {
    const { id, answer, stream } = await gatedTask('evlife', {}, { response: 'the answer' });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitFor(isStatus('in_progress'));
    expect(statuses(stream)).toEqual(['pending', 'in_progress']);
    // The replica counts the reader it holds open, until the stream ends.
    const readers = async () => sampleValue(parseSamples(await scrape(world().hive.url)), 'hive_live_event_readers');
    await expect(readers()).resolves.toBe(1);

    answer.open();
    await stream.waitFor(isStatus('completed'));
    await stream.closed;
    await expect(readers()).resolves.toBe(0);
    const task = await api.getTask(id);
    expect(task.status).toBe('completed');
    const data = statusEvents(stream).map((e) => e.json<StatusData>());
    expect(data).toEqual([
      { seq: expect.any(Number) as unknown, status: 'pending', at: expect.stringMatching(ISO_8601) as unknown },
      {
        seq: expect.any(Number) as unknown,
        status: 'in_progress',
        at: expect.stringMatching(ISO_8601) as unknown,
        agent: 'evlife-1',
        attempt: 1,
      },
      expect.objectContaining({
        status: 'completed',
        at: expect.stringMatching(ISO_8601) as unknown,
        result: task.result,
      }) as unknown,
    ]);
    expect(data[2]?.result).toMatchObject({ response: 'the answer' });
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'status', 'status']);
    expectIncreasingIds(stream.events);
    expect(statusEvents(stream).map((e) => Number(e.id))).toEqual(data.map((d) => d.seq * ID_STEP));
  });

  it('a failed attempt shows as retrying, with its error and retry time, before the attempt that completes', async () => {
    const answer = tracked();
    const agent = await agentFor('evretry');
    agent.queueBehaviors(
      { kind: 'error', status: 500, message: 'transient meltdown', gate: answer.promise },
      { kind: 'ok', response: 'second time lucky' },
    );
    const { id } = await api.submitTask({ type: 'evretry', max_attempts: 3, context: { prompt: 'retry me' } });
    const stream = await follow(id);
    await agent.waitForRequests(1);

    answer.open();
    await stream.waitFor(isStatus('completed'));
    await stream.closed;
    const data = statusEvents(stream).map((e) => e.json<StatusData>());
    const retrying = data.find((d) => d.status === 'retrying');
    expect(retrying).toMatchObject({
      agent: 'evretry-1',
      attempt: 1,
      retry_at: expect.stringMatching(ISO_8601) as unknown,
    });
    expect(retrying?.error).toContain('transient meltdown');
    // The first attempt, its failure, then a second attempt that completes.
    const order = data.map((d) => d.status).filter((s) => s !== 'pending');
    expect(order).toEqual(['in_progress', 'retrying', 'in_progress', 'completed']);
    expect(data.filter((d) => d.status === 'in_progress').map((d) => d.attempt)).toEqual([1, 2]);
    expect(data.at(-1)?.result).toMatchObject({ response: 'second time lucky' });
    expectIncreasingIds(stream.events);
    await expect(api.getTask(id)).resolves.toMatchObject({ status: 'completed', attempts: 2 });
  });

  it.each([
    ['generate', 'evstreamgen', { prompt: 'count' }, (t: Task) => t.result?.response],
    ['chat', 'evstreamchat', { prompt: 'talk' }, (t: Task) => t.result?.message?.content],
  ] as const)(
    'a %s task with stream: true sends its pieces as token events, in order; together they are the final answer',
    async (operation, specialty, context, answerOf) => {
      const response = manyWords(40);
      const { id, answer, stream } = await gatedTask(
        specialty,
        { operation, stream: true, context },
        { response, chunkDelayMs: 2 },
      );
      await stream.waitFor(isStatus('in_progress'));
      expect(tokenEvents(stream)).toEqual([]);

      answer.open();
      const completed = await stream.waitFor(isStatus('completed'));
      await stream.closed;
      const task = await api.getTask(id);
      expect(task).toMatchObject({ status: 'completed', stream: true });
      expect(answerOf(task)).toBe(response);
      expect(tokenEvents(stream)).toHaveLength(40);
      expect(streamedText(stream)).toBe(response);
      expect(tokenEvents(stream).map((e) => Object.keys(e.json<object>()))).toEqual(
        tokenEvents(stream).map(() => ['content']),
      );
      // Every piece came before the completed event.
      expect(stream.events.at(-1)).toBe(completed);
      expectTokenIds(stream);
      expectIncreasingIds(stream.events);
    },
  );

  it('a task cancelled while followed: its cancelled event ends the stream; one that fails: its failed event, with the error', async () => {
    const held = await gatedTask('evcancel', {});
    await held.stream.waitFor(isStatus('in_progress'));
    expect((await api.cancelTask(held.id)).status).toBe(200);
    await held.stream.waitFor(isStatus('cancelled'));
    await held.stream.closed;
    expect(statuses(held.stream)).toEqual(['pending', 'in_progress', 'cancelled']);

    const answer = tracked();
    const agent = await agentFor('evfail', {
      kind: 'error',
      status: 500,
      message: 'fatal meltdown',
      gate: answer.promise,
    });
    const { id } = await api.submitTask({ type: 'evfail', max_attempts: 1, context: { prompt: 'x' } });
    const stream = await follow(id);
    await agent.waitForRequests(1);
    answer.open();
    const failed = await stream.waitFor(isStatus('failed'));
    await stream.closed;
    expect(failed.json<StatusData>()).toMatchObject({ agent: 'evfail-1', attempt: 1 });
    expect(failed.json<StatusData>().error).toContain('fatal meltdown');
    expect(stream.events.at(-1)).toBe(failed);
  });

  it('a task without stream gets no token events, only its status events', async () => {
    const { id, answer, stream } = await gatedTask('evnostream', {}, { response: manyWords(20), chunkDelayMs: 1 });
    answer.open();
    await stream.waitFor(isStatus('completed'));
    await stream.closed;
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'status', 'status']);
    await expect(api.getTask(id)).resolves.toMatchObject({ status: 'completed', stream: false });
  });

  it('a finished task answers its events at once, and the stream ends', async () => {
    await agentFor('evdone');
    const { id } = await api.submitTask({ type: 'evdone', context: { prompt: 'quick' } });
    const task = await api.waitForTask(id, 'completed');

    const stream = await follow(id);
    await stream.closed;
    expect(stream.status).toBe(200);
    expect(statuses(stream)).toEqual(['pending', 'in_progress', 'completed']);
    expect(statusEvents(stream).at(-1)?.json<StatusData>().result).toEqual(task.result);
  });

  it('Last-Event-ID resumes after that id: only the status events after it, then the live ones', async () => {
    const { id, answer, stream } = await gatedTask('evresume', {}, { response: 'resumed' });
    const pending = await stream.waitFor(isStatus('pending'));
    const inProgress = await stream.waitFor(isStatus('in_progress'));

    // Reconnecting after `pending`: the in_progress it missed, then live.
    const resumed = await follow(id, { lastEventId: pending.id });
    await resumed.waitFor(isStatus('in_progress'));
    expect(resumed.events.map((e) => e.id)).toEqual([inProgress.id]);
    // Reconnecting after the last event: nothing until the task changes (its head is awaited further down).
    const upToDate = follow(id, { lastEventId: inProgress.id });

    answer.open();
    const completed = await resumed.waitFor(isStatus('completed'));
    await resumed.closed;
    expect(statuses(resumed)).toEqual(['in_progress', 'completed']);
    const live = await upToDate;
    await live.closed;
    expect(live.events.map((e) => e.id)).toEqual([completed.id]);

    // Once finished: after the in_progress event, only completed; after the last, nothing, and the stream ends.
    const late = await follow(id, { lastEventId: inProgress.id });
    await late.closed;
    expect(late.events.map((e) => [e.id, e.event])).toEqual([[completed.id, 'status']]);
    const atEnd = await follow(id, { lastEventId: completed.id });
    await atEnd.closed;
    expect(atEnd.status).toBe(200);
    expect(atEnd.events).toEqual([]);
  });

  it('a reader with nothing to catch up on gets its 200 head at once, not with the first keep-alive', async () => {
    const { id, answer, stream } = await gatedTask('evhead', {}, { response: 'later' });
    const inProgress = await stream.waitFor(isStatus('in_progress'));

    // The head arrives while the task is still held by its agent: nothing has happened that an event could carry.
    const upToDate = await follow(id, { lastEventId: inProgress.id });
    expect(upToDate.status).toBe(200);
    expect(upToDate.headers['content-type']).toMatch(/^text\/event-stream/);
    answer.open();
    await upToDate.closed;
    expect(statuses(upToDate)).toEqual(['completed']);
    // Had the head waited for something to write, it would have come with the periodic keep-alive (after 15 s).
    expect(upToDate.comments.filter((c) => c === 'keep-alive')).toEqual([]);
  });

  it.each([
    ['abc', 'evbadword'],
    ['-1', 'evbadnegative'],
    ['1.5', 'evbadfraction'],
    ['12345678901234567890', 'evbadhuge'],
  ])('Last-Event-ID %p is refused with 400 (JSON)', async (lastEventId, type) => {
    await agentFor(type);
    const { id } = await api.submitTask({ type, context: { prompt: 'x' } });
    const stream = await follow(id, { lastEventId });
    expect(stream.status).toBe(400);
    expect(stream.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(await stream.text()) as ErrorBody;
    expect(messages(body).join('\n')).toContain('Last-Event-ID');
  });

  it('an unknown task is a 404 in Hive’s JSON error shape; an id that is not a UUID a 400', async () => {
    const missing = '6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f';
    const stream = await follow(missing);
    expect(stream.status).toBe(404);
    expect(stream.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(await stream.text()) as ErrorBody;
    expect(body).toMatchObject({ statusCode: 404, message: `Task ${missing} does not exist` });

    const notUuid = await follow('not-a-uuid');
    expect(notUuid.status).toBe(400);
    expect(messages(JSON.parse(await notUuid.text()))).toEqual(['id must be a UUID']);
  });

  it('needs an API key (401 without one); the viewer role may read', async () => {
    await agentFor('evauth');
    const { id } = await api.submitTask({ type: 'evauth', context: { prompt: 'x' } });
    await api.waitForTask(id, 'completed');

    const anonymous = await follow(id, { key: null });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(await anonymous.text())).toMatchObject({ statusCode: 401 });

    const viewer = await createKey(api.url, 'viewer', 'events viewer');
    const asViewer = await follow(id, { key: viewer.key });
    await asViewer.closed;
    expect(asViewer.status).toBe(200);
    expect(statuses(asViewer)).toEqual(['pending', 'in_progress', 'completed']);
  });

  it('a reader that disconnects does not cancel the task: it completes', async () => {
    const { id, agent, answer, stream } = await gatedTask('evleave', {}, { response: 'finished anyway' });
    await stream.waitFor(isStatus('in_progress'));
    stream.close();
    await stream.closed;

    // A wait that times out: the task is still running, its agent call untouched, after the reader left.
    const still = await api.request<Task>('GET', `/api/tasks/${id}?wait=1`);
    expect(still.body.status).toBe('in_progress');
    expect(agent.inFlight).toBe(1);

    answer.open();
    await expect(api.waitForTask(id, 'completed')).resolves.toMatchObject({
      attempts: 1,
      result: { response: 'finished anyway' },
    });
  });

  it('a reader that keeps up gets the completed event of an answer larger than 1 MB (it is not behind)', async () => {
    // 1.2 MB: within what Hive takes from an agent (16 MB), above what a reader may have unsent (1 MB).
    const response = Array.from({ length: 1_200 }, (_, i) => `${i}`.padEnd(999, 'x')).join(' ');
    const { id, answer, stream } = await gatedTask('evbig', {}, { response });
    await stream.waitFor(isStatus('in_progress'));

    answer.open();
    await expect(api.waitForTask(id, 'completed')).resolves.toMatchObject({ result: { response } });
    await stream.closed;
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'status', 'status']);
    expect(stream.events.at(-1)?.json<StatusData>()).toMatchObject({ status: 'completed', result: { response } });
  });

  it('a stalled reader slows neither another reader nor the task, and is dropped once too far behind', async () => {
    // 53 bytes per token event: 8 MB, far more than the 1 MB a reader may have unsent plus what the sockets buffer
    // (about 4 MB here); the answer itself stays small (300 KB), so that its completed event fits a reader's
    // allowance, and the agent's NDJSON (13 MB) below the 16 MB Hive reads of an answer.
    const count = 150_000;
    const response = Array.from({ length: count }, (_, i) => String.fromCharCode(97 + (i % 26))).join(' ');
    const answer = tracked();
    const agent = await agentFor('evstall', { kind: 'ok', response, chunkDelayMs: 0, gate: answer.promise });
    const { id } = await api.submitTask({
      type: 'evstall',
      stream: true,
      context: { prompt: 'long' },
      timeout_ms: 240_000,
    });
    // Hive's side of the laggard's response, to resume the reader as soon as Hive has ended it (Hive cuts a
    // dropped reader off 5 s after it ended the stream; what it had not sent by then, `dropped` included, is lost).
    const server = world().hive.app.getHttpServer();
    const responses = new Map<string, ServerResponse>();
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const reader = req.headers['x-test-reader'];
      if (typeof reader === 'string') responses.set(reader, res);
    };
    server.on('request', onRequest);
    try {
      // Paused for good; paused, then resumed once Hive has ended its stream; reading all along.
      const frozen = await follow(id);
      const laggard = await follow(id, { headers: { 'x-test-reader': 'laggard' } });
      const attentive = await follow(id);
      await agent.waitForRequests(1);
      await Promise.all([frozen, laggard, attentive].map((s) => s.waitFor(isStatus('in_progress'))));
      frozen.pause();
      laggard.pause();

      answer.open();
      await waitUntil(() => responses.get('laggard')?.writableEnded === true, {
        describe: 'Hive to end the paused laggard’s stream',
        timeoutMs: 120_000,
      });
      laggard.resume();
      await laggard.closed;
      expect(laggard.events.some(isStatus('completed'))).toBe(false);
      expect(laggard.events.at(-1)?.event).toBe('dropped');
      expect(laggard.events.at(-1)?.json<{ reason: string }>().reason).toMatch(/Last-Event-ID/);
      expect(tokenEvents(laggard).length).toBeLessThan(count);
      // What it got before it was dropped is the beginning of the answer, in order.
      expect(response.startsWith(streamedText(laggard))).toBe(true);

      await attentive.waitFor(isStatus('completed'), 120_000);
      await attentive.closed;
      expect(tokenEvents(attentive)).toHaveLength(count);
      expect(streamedText(attentive)).toBe(response);
      expectTokenIds(attentive);
      // The task completed while the frozen reader was still paused.
      await expect(api.getTask(id)).resolves.toMatchObject({ status: 'completed', result: { response } });

      frozen.resume();
      await frozen.closed;
      // It never got the end: it was dropped (and, paused longer than the close grace, cut off) before.
      expect(frozen.events.some(isStatus('completed'))).toBe(false);
      expect(tokenEvents(frozen).length).toBeLessThan(count);
      expect(response.startsWith(streamedText(frozen))).toBe(true);
    } finally {
      server.off('request', onRequest);
    }
  }, 180_000);
});

/** A reader on one replica, the task on another: the pieces cross through PostgreSQL. */
describe('delivery: live events across replicas (two real processes on one PostgreSQL database)', () => {
  const replicas = new ReplicaSet();
  const agents = new AgentFleet();
  let gates: Gate[] = [];
  let streams: EventStream[] = [];

  beforeAll(async () => {
    await replicas.open();
  });
  afterEach(async () => {
    for (const g of gates) g.open();
    gates = [];
    for (const stream of streams) stream.close();
    streams = [];
    await replicas.stopAll();
  });
  afterAll(async () => {
    await closeAll([() => agents.closeAll(), () => replicas.close()]);
  });

  it('a reader on replica A gets, in order, the pieces of the answer replica B’s agent streams, then completed', async () => {
    const answer = gate();
    gates.push(answer);
    const response = manyWords(60);
    const agent = await agents.start({ behavior: { kind: 'ok', response, chunkDelayMs: 5, gate: answer.promise } });

    // Only B runs at first: it claims the task.
    const { other: a, taskId: id } = await replicas.taskHeldBy(
      'replica-b',
      'replica-a',
      { id: 'xevents-1', server: agent },
      { type: 'xevents', stream: true, context: { prompt: 'cross' } },
    );
    await expect(replicas.leaseOf(id)).resolves.toEqual({ status: 'in_progress', lease_owner: 'replica-b' });
    const stream = await openEventStream(`${a.url}/api/tasks/${id}/events`, {
      headers: { 'x-api-key': TEST_ADMIN_KEY },
    });
    streams.push(stream);
    expect(stream.status).toBe(200);
    await stream.waitFor(isStatus('in_progress'));
    expect(tokenEvents(stream)).toEqual([]);

    answer.open();
    await stream.waitFor(isStatus('completed'), 30_000);
    await stream.closed;
    expect(tokenEvents(stream)).toHaveLength(60);
    expect(streamedText(stream)).toBe(response);
    expectTokenIds(stream);
    expectIncreasingIds(stream.events);
    expect(stream.events.at(-1)?.json<StatusData>()).toMatchObject({ status: 'completed', result: { response } });
    expect(agent.requests).toHaveLength(1);
  }, 90_000);
});
