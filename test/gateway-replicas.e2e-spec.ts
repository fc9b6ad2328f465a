import { readFileSync } from 'node:fs';
import { Ollama } from 'ollama';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import { HiveApi, type Task } from './support/api.js';
import { AgentFleet, closeAll } from './support/hive-fixture.js';
import type { HiveProcess } from './support/hive-process.js';
import type { AgentBehavior, AgentProtocol, OllamaAgent } from './support/ollama-agent.js';
import { pollUntil, waitUntil } from './support/poll.js';
import { ReplicaSet } from './support/replica-set.js';
import type { TestDatabase } from './support/test-database.js';
import { createKey } from './support/test-keys.js';

/** One call as an application makes it: which client, streamed or not, a chat or a completion (generate). */
interface Call {
  dialect: 'openai' | 'ollama';
  stream: boolean;
  operation: 'chat' | 'generate';
  model: string;
  prompt: string;
}

/** What the client got: the answer's text, the pieces it came in (one for an answer not streamed), its task. */
interface Answer {
  text: string;
  pieces: string[];
  taskId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The test agent echoes the prompt (a chat's last user message), whatever the protocol. */
const echoOf = (call: Pick<Call, 'prompt'>): string => `echo: ${call.prompt}`;

/** Reads a stream to its end: the non-empty pieces, each also handed to `onPiece` as it arrives. */
async function piecesOf<C>(
  chunks: AsyncIterable<C>,
  pieceOf: (chunk: C) => string | null | undefined,
  onPiece: (piece: string) => void,
): Promise<string[]> {
  const pieces: string[] = [];
  for await (const chunk of chunks) {
    const piece = pieceOf(chunk);
    if (piece === null || piece === undefined || piece === '') continue;
    pieces.push(piece);
    onPiece(piece);
  }
  return pieces;
}

/** The official clients (openai 7, maxRetries 0; ollama 0.6) pointed at one replica with an API key. */
class GatewayClient {
  constructor(
    readonly url: string,
    private readonly key: string,
  ) {}

  call(call: Call, onPiece: (piece: string) => void = () => undefined): Promise<Answer> {
    return call.dialect === 'openai' ? this.viaOpenAi(call, onPiece) : this.viaOllama(call, onPiece);
  }

  private async viaOpenAi({ stream, operation, model, prompt }: Call, onPiece: (p: string) => void): Promise<Answer> {
    const client = new OpenAI({ baseURL: `${this.url}/v1`, apiKey: this.key, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: prompt }];
    if (operation === 'chat' && stream) {
      const { data, response } = await client.chat.completions.create({ model, messages, stream: true }).withResponse();
      const pieces = await piecesOf(data, (c) => c.choices[0]?.delta.content, onPiece);
      return { text: pieces.join(''), pieces, taskId: response.headers.get('x-hive-task-id') };
    }
    if (operation === 'chat') {
      const { data, response } = await client.chat.completions.create({ model, messages }).withResponse();
      return whole(data.choices[0]?.message.content, response.headers);
    }
    if (stream) {
      const { data, response } = await client.completions.create({ model, prompt, stream: true }).withResponse();
      const pieces = await piecesOf(data, (c) => c.choices[0]?.text, onPiece);
      return { text: pieces.join(''), pieces, taskId: response.headers.get('x-hive-task-id') };
    }
    const { data, response } = await client.completions.create({ model, prompt }).withResponse();
    return whole(data.choices[0]?.text, response.headers);
  }

  private async viaOllama({ stream, operation, model, prompt }: Call, onPiece: (p: string) => void): Promise<Answer> {
    let headers: Headers | undefined;
    const client = new Ollama({
      host: this.url,
      headers: { Authorization: `Bearer ${this.key}` },
      // The client does not show the answer's headers: keep them on the way (x-hive-task-id).
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        headers = response.headers;
        return response;
      },
    });
    const taskId = (): string | null => headers?.get('x-hive-task-id') ?? null;
    const messages = [{ role: 'user', content: prompt }];
    if (operation === 'chat' && stream) {
      const pieces = await piecesOf(
        await client.chat({ model, messages, stream: true }),
        (p) => p.message.content,
        onPiece,
      );
      return { text: pieces.join(''), pieces, taskId: taskId() };
    }
    if (operation === 'chat') {
      return whole((await client.chat({ model, messages, stream: false })).message.content, headers);
    }
    if (stream) {
      const pieces = await piecesOf(await client.generate({ model, prompt, stream: true }), (p) => p.response, onPiece);
      return { text: pieces.join(''), pieces, taskId: taskId() };
    }
    return whole((await client.generate({ model, prompt, stream: false })).response, headers);
  }
}

function whole(text: string | null | undefined, headers: Headers | undefined): Answer {
  return { text: text ?? '', pieces: [text ?? ''], taskId: headers?.get('x-hive-task-id') ?? null };
}

/** A call under way: awaited later, and never an unhandled rejection if the test fails before that. */
function underWay(answer: Promise<Answer>): Promise<Answer> {
  answer.catch(() => undefined);
  return answer;
}

/**
 * How a call ended, in words a failed assertion shows: 'answered', 'connection error' (the transport broke: the
 * openai client's APIConnectionError, or fetch's own TypeError when the body breaks mid-stream or the ollama client
 * sent the request), or the error itself (an HTTP error answer, an error event).
 */
async function endingOf(answer: Promise<Answer>): Promise<string> {
  try {
    await answer;
    return 'answered';
  } catch (error) {
    if (error instanceof APIConnectionError) return 'connection error';
    // An HTTP error answer, or an error event in the stream (no status then).
    if (error instanceof APIError) return `APIError: ${error.message}`;
    // fetch's errors come from Node's realm, not the test's: compared by name, not instanceof.
    const { name, message } = error as Error;
    if (name === 'TypeError' && ['fetch failed', 'terminated'].includes(message)) return 'connection error';
    return `${name}: ${message}`;
  }
}

/**
 * `promise`'s value, or a failure after `timeoutMs` that shows `state()`: only turns a hang (a stream that never
 * ends) into a readable failure before the test's own timeout, never a timed assertion.
 */
async function settledWithin<T>(promise: Promise<T>, timeoutMs: number, state: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not settled after ${timeoutMs} ms; state: ${JSON.stringify(state())}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise the test settles: an agent's answer waits for open(). */
interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * The agent's first answer waits until it holds two calls at once, so the test knows (rather than hopes) that Hive
 * used all of its max_concurrent 2; if no second call came, the first would never end.
 */
function holdFirstUntilTwoInFlight(agent: OllamaAgent, behavior: AgentBehavior & { kind: 'ok' }): void {
  const two = gate();
  const stop = agent.onRequest(() => {
    if (agent.inFlight < 2) return;
    stop();
    two.open();
  });
  agent.queueBehaviors({ ...behavior, gate: two.promise });
}

/** The agent's requests that carry `prompt` (as a generate's prompt or a chat message, whatever the protocol). */
const requestsWith = (fleet: readonly OllamaAgent[], prompt: string): number =>
  fleet.flatMap((a) => a.requests).filter((r) => JSON.stringify(r.body).includes(JSON.stringify(prompt))).length;

/** The task a call made, found by its prompt among `tasks` (before the call's answer, and its headers, came). */
function taskOf(tasks: readonly Task[], call: Call): Task {
  const task = tasks.find((t) => JSON.stringify(t.input).includes(JSON.stringify(call.prompt)));
  if (task === undefined) throw new Error(`no task for the call "${call.prompt}" among ${tasks.length}`);
  return task;
}

/** One field of /proc/<pid>/stat: the process state ('T' once a SIGSTOP took effect). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
}

/** Client sessions on the database with a transaction open (other than the one asking). */
async function openTransactions(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ open: number }>(
    `SELECT count(*)::int AS open FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend'
        AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
  );
  return row?.open ?? 0;
}

/** Whether a moment comes within `timeoutMs` when no client session of the database has a transaction open. */
async function momentWithoutTransactions(db: TestDatabase, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await openTransactions(db)) === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A task's status, attempts and the statuses of its history, read from the database. */
async function historyOf(
  db: TestDatabase,
  taskId: string,
): Promise<{ status: string; attempts: number; history: string[] } | undefined> {
  const [row] = await db.query<{ status: string; attempts: number; history: string[] }>(
    `SELECT status, attempts, array(SELECT e->>'status' FROM jsonb_array_elements(events) AS e) AS history
       FROM tasks WHERE id = $1`,
    [taskId],
  );
  return row;
}

/** How an agent is started and registered. */
interface AgentSpec {
  protocol: AgentProtocol;
  behavior: AgentBehavior;
  maxConcurrent: number;
}

/** Two real Hive processes of the production build on one database, called through the official client libraries. */
describe('gateway across replicas (two real processes on one PostgreSQL database, the openai and ollama clients)', () => {
  const replicas = new ReplicaSet();
  let agents = new AgentFleet();
  let gates: Gate[] = [];
  let frozen = new Set<HiveProcess>();

  /** A gate that afterEach opens if the test did not (so no agent call outlives its test). */
  function tracked(): Gate {
    const g = gate();
    gates.push(g);
    return g;
  }

  /** An agent serving `model` registered through `api` (its kind is its protocol). */
  async function agentFor(
    api: HiveApi,
    id: string,
    model: string,
    { protocol = 'ollama', behavior = { kind: 'ok' }, maxConcurrent = 2 }: Partial<AgentSpec> = {},
  ): Promise<OllamaAgent> {
    const agent = await agents.start({ protocol, models: [model], behavior });
    await api.registerAgent({
      id,
      endpoint: agent.url,
      specialty: 'gateway',
      model,
      kind: protocol,
      max_concurrent: maxConcurrent,
    });
    return agent;
  }

  /** Tasks for the agent (REST, not the gateway) that hold its slots until `until` opens. */
  async function blockAgent(api: HiveApi, agent: OllamaAgent, model: string, count: number, until: Gate) {
    const before = agent.requests.length;
    agent.queueBehaviors(...Array.from({ length: count }, (): AgentBehavior => ({ kind: 'ok', gate: until.promise })));
    for (let i = 0; i < count; i += 1) {
      await api.submitTask({ model, operation: 'generate', input: { prompt: `blocker ${i}` } });
    }
    await agent.waitForRequests(before + count);
  }

  /** Waits until `count` tasks of `model` wait in the queue (the calls' tasks, found before their answers came). */
  async function pendingTasks(api: HiveApi, model: string, count: number): Promise<Task[]> {
    const { tasks } = await pollUntil(
      () => api.listTasks({ model, status: 'pending', limit: 100 }),
      (list) => list.tasks.length === count,
      { describe: `${count} pending tasks of ${model}` },
    );
    return tasks;
  }

  /**
   * Stops `hive` (SIGSTOP) so that, for a while, the other replica alone claims tasks. Stopped inside a claim, it
   * would keep the agents' rows locked (claim.lockAgents: FOR UPDATE) and nobody could claim until it resumed; so
   * the stop holds only once a moment comes with no transaction open on the database (the other replica's come and
   * go, a stopped one's stays), else it is resumed to finish and stopped again.
   */
  async function freezeOutsideTransactions(hive: HiveProcess): Promise<void> {
    const pid = hive.child.pid;
    if (pid === undefined) throw new Error('the replica has no process id');
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      hive.kill('SIGSTOP');
      frozen.add(hive);
      await waitUntil(() => processState(pid) === 'T', { describe: `replica ${pid} to be stopped` });
      if (await momentWithoutTransactions(replicas.database, 1_000)) return;
      thaw(hive);
      await momentWithoutTransactions(replicas.database, 1_000);
    }
    throw new Error('the replica was caught inside a transaction at each of 10 stops');
  }

  function thaw(hive: HiveProcess): void {
    hive.kill('SIGCONT');
    frozen.delete(hive);
  }

  beforeAll(async () => {
    await replicas.open();
  });
  afterEach(async () => {
    const [opening, thawing, closing] = [gates, frozen, agents];
    [gates, frozen, agents] = [[], new Set(), new AgentFleet()];
    for (const g of opening) g.open();
    for (const hive of thawing) hive.kill('SIGCONT'); // a stopped process would not see the SIGTERM of stopAll
    await closeAll([
      () => replicas.stopAll(),
      () => closing.closeAll(),
      () => replicas.database.query('TRUNCATE tasks, agents CASCADE'),
    ]);
  });
  afterAll(async () => {
    await replicas.close();
  });

  it('20 calls at once over both replicas (both dialects, streamed or not): each answered right, no agent above max_concurrent', async () => {
    const model = 'swarm:7b';
    const [a, b] = await Promise.all([replicas.spawn('replica-a'), replicas.spawn('replica-b')]);
    const { key } = await createKey(a.url, 'operator');
    const api = new HiveApi(a.url);
    // Slow enough that calls overlap: the 20 calls queue for the agents' 4 slots.
    const slow = { kind: 'ok', delayMs: 40, chunkDelayMs: 15 } as const;
    const fleet = [
      await agentFor(api, 'swarm-ollama', model, { protocol: 'ollama', behavior: slow }),
      await agentFor(api, 'swarm-openai', model, { protocol: 'openai', behavior: slow }),
    ];
    for (const agent of fleet) holdFirstUntilTwoInFlight(agent, slow);
    const shapes = (['openai', 'ollama'] as const).flatMap((dialect) =>
      [true, false].flatMap((stream) =>
        (['chat', 'generate'] as const).map((operation) => ({ dialect, stream, operation })),
      ),
    );
    // Each shape on both replicas (the first 16 calls), the first two shapes twice more.
    const calls = Array.from({ length: 20 }, (_, i) => ({
      replica: i % 2,
      call: { ...shapes[Math.floor(i / 2) % shapes.length], model, prompt: `swarm call ${i} of 20` },
    }));
    const clients = [new GatewayClient(a.url, key), new GatewayClient(b.url, key)];

    const answers = await Promise.all(calls.map(({ replica, call }) => clients[replica].call(call)));

    expect(answers.map((answer) => answer.text)).toEqual(calls.map(({ call }) => echoOf(call)));
    // A streamed answer came in pieces, not in one block at the end.
    expect(answers.filter((answer, i) => calls[i].call.stream && answer.pieces.length < 2)).toEqual([]);
    expect(fleet.map((agent) => agent.maxInFlight)).toEqual([2, 2]); // each limit reached, none exceeded
    // Each call is one task, run once, that names its dialect and operation.
    expect(calls.map(({ call }) => requestsWith(fleet, call.prompt))).toEqual(calls.map(() => 1));
    expect(answers.map((answer) => answer.taskId)).toEqual(calls.map((): unknown => expect.stringMatching(UUID)));
    const tasks = await Promise.all(answers.map((answer) => api.waitForTask(answer.taskId ?? '', 'completed')));
    expect(tasks).toMatchObject(
      calls.map(({ call }) => ({ gateway: call.dialect, operation: call.operation, model, attempts: 1 })),
    );
    expect(new Set(tasks.map((t) => t.id)).size).toBe(20);
  });

  it('a call streamed from replica A whose task replica B runs: its tokens cross through PostgreSQL, in order', async () => {
    const model = 'relay:7b';
    const [held, answer] = [tracked(), tracked()];
    const b = await replicas.spawn('replica-b');
    const { key } = await createKey(b.url, 'operator');
    const apiB = new HiveApi(b.url);
    const agent = await agentFor(apiB, 'relay-1', model);
    // B alone runs: it holds both of the agent's slots, so the calls made on A wait in the queue.
    await blockAgent(apiB, agent, model, 2, held);
    agent.queueBehaviors(...[1, 2].map((): AgentBehavior => ({ kind: 'ok', chunkDelayMs: 20, gate: answer.promise })));
    const a = await replicas.spawn('replica-a');
    const calls: Call[] = [
      { dialect: 'openai', stream: true, operation: 'chat', model, prompt: 'tokens from b to the openai client' },
      { dialect: 'ollama', stream: true, operation: 'generate', model, prompt: 'tokens from b to the ollama client' },
    ];
    const client = new GatewayClient(a.url, key);
    const answers = calls.map((call) => underWay(client.call(call)));
    const tasks = await pendingTasks(new HiveApi(a.url), model, 2);

    // A stopped, the agent's slots free up: B claims the calls' tasks.
    await freezeOutsideTransactions(a);
    held.open();
    await agent.waitForRequests(4);
    const leases = await Promise.all(calls.map((call) => replicas.leaseOf(taskOf(tasks, call).id)));
    expect(leases).toEqual(calls.map(() => ({ status: 'in_progress', lease_owner: 'replica-b' })));
    thaw(a);
    answer.open();

    const got = await Promise.all(answers);
    expect(got.map((g) => g.text)).toEqual(calls.map(echoOf));
    expect(got.map((g) => g.pieces.length > 1)).toEqual([true, true]); // relayed piece by piece
    expect(got.map((g) => g.taskId)).toEqual(calls.map((call) => taskOf(tasks, call).id));
    const ran = await Promise.all(got.map((g) => new HiveApi(a.url).waitForTask(g.taskId ?? '', 'completed')));
    expect(ran.map((t) => [t.attempts, t.assigned_agent])).toEqual([
      [1, 'relay-1'],
      [1, 'relay-1'],
    ]);
    expect(agent.requests).toHaveLength(4); // two blockers, each call once
  });

  it('SIGKILL mid-request: the dead replica’s calls fail with a connection error; the other’s complete (requeued after the lease); it keeps serving', async () => {
    const model = 'crash:7b';
    const held = tracked();
    const a = await replicas.spawn('replica-a');
    const { key } = await createKey(a.url, 'operator');
    const apiA = new HiveApi(a.url);
    const agent = await agentFor(apiA, 'crash-1', model, {
      behavior: { kind: 'ok', chunkDelayMs: 10 },
      maxConcurrent: 4,
    });
    await blockAgent(apiA, agent, model, 2, held);

    // On A: a streamed call that got its first piece (the next would come in a minute), and one still waiting.
    const onA = new GatewayClient(a.url, key);
    agent.queueBehaviors({ kind: 'ok', chunkDelayMs: 60_000 }, { kind: 'hang' });
    const firstPiece = gate();
    const streamedOnA = underWay(
      onA.call(
        { dialect: 'openai', stream: true, operation: 'chat', model, prompt: 'cut off in the middle' },
        firstPiece.open,
      ),
    );
    await firstPiece.promise;
    const waitingOnA = underWay(
      onA.call({ dialect: 'ollama', stream: false, operation: 'chat', model, prompt: 'never answered' }),
    );
    await agent.waitForRequests(4);

    // On B: two calls that wait in the queue (the agent is full), then run on A while B is stopped, and hang there.
    const b = await replicas.spawn('replica-b');
    const callsOnB: Call[] = [
      { dialect: 'openai', stream: false, operation: 'chat', model, prompt: 'survives the crash as a whole' },
      { dialect: 'ollama', stream: true, operation: 'generate', model, prompt: 'survives the crash in pieces' },
    ];
    const onB = new GatewayClient(b.url, key);
    const answersOnB = callsOnB.map((call) => underWay(onB.call(call)));
    const tasksOnB = await pendingTasks(apiA, model, 2);
    agent.queueBehaviors({ kind: 'hang' }, { kind: 'hang' });
    await freezeOutsideTransactions(b);
    held.open();
    await agent.waitForRequests(6);
    const leases = await Promise.all(callsOnB.map((call) => replicas.leaseOf(taskOf(tasksOnB, call).id)));
    expect(leases).toEqual(callsOnB.map(() => ({ status: 'in_progress', lease_owner: 'replica-a' })));
    thaw(b);

    a.kill('SIGKILL');
    await expect(a.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });

    await expect(Promise.all([endingOf(streamedOnA), endingOf(waitingOnA)])).resolves.toEqual([
      'connection error',
      'connection error',
    ]);
    // B's calls: their tasks come back to the queue when A's lease runs out, and B runs them again.
    const survived = await Promise.all(answersOnB);
    expect(survived.map((s) => s.text)).toEqual(callsOnB.map(echoOf));
    expect(survived.map((s) => s.taskId)).toEqual(callsOnB.map((call) => taskOf(tasksOnB, call).id));
    const apiB = new HiveApi(b.url);
    const rerun = await Promise.all(survived.map((s) => apiB.waitForTask(s.taskId ?? '', 'completed')));
    expect(rerun.map((t) => t.attempts)).toEqual([2, 2]);

    // And B goes on serving new calls, in both dialects.
    const fresh: Call[] = [
      { dialect: 'openai', stream: true, operation: 'chat', model, prompt: 'after the crash via openai' },
      { dialect: 'ollama', stream: false, operation: 'generate', model, prompt: 'after the crash via ollama' },
    ];
    const after = await Promise.all(fresh.map((call) => onB.call(call)));
    expect(after.map((s) => s.text)).toEqual(fresh.map(echoOf));
  });

  it('SIGKILL of the replica running a streamed call: the client on the other replica hears the answer broke off (no piece twice), the task is cancelled, not run again', async () => {
    const model = 'cutoff:7b';
    const held = tracked();
    const b = await replicas.spawn('replica-b');
    const { key } = await createKey(b.url, 'operator');
    const apiB = new HiveApi(b.url);
    const agent = await agentFor(apiB, 'cutoff-1', model);
    // B alone runs: it holds both of the agent's slots, so the calls made on A wait in the queue.
    await blockAgent(apiB, agent, model, 2, held);
    // Each call's first piece at once, the next a minute later: B dies in between. A second attempt, should one
    // start, hangs (its cancel ends it), so it can neither answer nor go unseen in the task's history.
    agent.queueBehaviors(
      ...[1, 2].map((): AgentBehavior => ({ kind: 'ok', chunkDelayMs: 60_000 })),
      ...[1, 2].map((): AgentBehavior => ({ kind: 'hang' })),
    );
    const a = await replicas.spawn('replica-a');
    const calls: Call[] = [
      { dialect: 'openai', stream: true, operation: 'chat', model, prompt: 'broken off for the openai client' },
      { dialect: 'ollama', stream: true, operation: 'generate', model, prompt: 'broken off for the ollama client' },
    ];
    const client = new GatewayClient(a.url, key);
    // Every piece each client heard, kept here: a call that fails takes its pieces with it.
    const heard = calls.map((): string[] => []);
    const firstPieces = calls.map(() => gate());
    const answers = calls.map((call, i) =>
      underWay(
        client.call(call, (piece) => {
          heard[i].push(piece);
          firstPieces[i].open();
        }),
      ),
    );
    const tasks = await pendingTasks(new HiveApi(a.url), model, 2);
    const taskIds = calls.map((call) => taskOf(tasks, call).id);

    // A stopped, the agent's slots free up: B claims the calls' tasks.
    await freezeOutsideTransactions(a);
    held.open();
    await agent.waitForRequests(4);
    const leases = await Promise.all(taskIds.map((id) => replicas.leaseOf(id)));
    expect(leases).toEqual(calls.map(() => ({ status: 'in_progress', lease_owner: 'replica-b' })));
    thaw(a);
    await Promise.all(firstPieces.map((first) => first.promise));

    b.kill('SIGKILL');
    await expect(b.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    await agent.waitForAborts(2); // B's agent calls died with it

    // A's reaper requeues the tasks once B's lease runs out (TASK_LEASE_MS 3000); A, whose clients have part of the
    // answers, ends the calls with the dialect's error event rather than let another attempt start them again.
    const broke = 'the answer broke off: its agent call was lost';
    const endings = await settledWithin(Promise.all(answers.map(endingOf)), 20_000, () => ({ heard, taskIds }));
    expect(endings).toEqual([`APIError: ${broke}`, `Error: ${broke}`]);
    expect(heard).toEqual([['echo: '], ['echo: ']]); // the first piece, once: nothing after the crash
    const ended = await Promise.all(
      taskIds.map((id) =>
        pollUntil(
          () => historyOf(replicas.database, id),
          (task) => task !== undefined && !['pending', 'in_progress'].includes(task.status),
          { describe: `task ${id} to end` },
        ),
      ),
    );
    // Requeued by the reaper (retrying), then cancelled by A: before any replica claimed it again, or, when A's
    // dispatcher claimed it in the moment between, with that attempt cancelled at once (its client never hears it).
    const histories = [
      ['pending', 'in_progress', 'retrying', 'cancelled'],
      ['pending', 'in_progress', 'retrying', 'in_progress', 'cancelled'],
    ];
    calls.forEach((call, i) => {
      const task = ended[i];
      expect(task?.status).toBe('cancelled');
      expect(histories).toContainEqual(task?.history);
      expect(task?.attempts).toBe(task?.history.filter((status) => status === 'in_progress').length);
      const seen = requestsWith([agent], call.prompt);
      expect(seen).toBeGreaterThanOrEqual(1);
      expect(seen).toBeLessThanOrEqual(task?.attempts ?? 0);
    });
  });
});
