import { BadRequestError, InternalServerError } from 'openai';
import type { Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import {
  DIALECT_STREAMS,
  finished,
  gatewayWorld,
  rejectionOf,
  type Dialect,
  type Seen,
} from './support/gateway-world.js';
import type { AgentProtocol, AgentRequestRecord } from './support/ollama-agent.js';
import { pollUntil } from './support/poll.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The text of a chat request's last message, as the agent received it. */
function promptOf(request: AgentRequestRecord | undefined): string {
  const last = request?.messages?.at(-1) as { content?: unknown } | undefined;
  return typeof last?.content === 'string' ? last.content : '';
}

/** The text of a chat task's first message, as Hive stored it. */
function chatPromptOf(task: Task): unknown {
  return (task.input as { messages?: { content?: unknown }[] } | null)?.messages?.[0]?.content;
}

describe('gateway: the queue, its headers and what tasks keep (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const w = gatewayWorld(world);

  describe('a call that waits in the queue', () => {
    it.each(DIALECT_STREAMS)(
      '%s (stream: %s) still queued after x-hive-queue-timeout-ms 300 gets 503 queue_timeout with Retry-After; its task is cancelled',
      async (dialect, stream) => {
        const { agent, model, slot, holder } = await w.busyAgent('qtimeout');
        const seen: Seen = { pieces: [] };
        const headers = { 'x-hive-queue-timeout-ms': '300' };

        const error = await rejectionOf(w.gateway().chat(dialect, model, 'too late', { stream, headers, seen }));
        let answerHeaders: Headers | undefined;
        if (dialect === 'openai') {
          expect(error).toBeInstanceOf(InternalServerError);
          expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'queue_timeout' });
          answerHeaders = (error as InternalServerError).headers;
        } else {
          expect(error).toMatchObject({ name: 'ResponseError', status_code: 503 });
          answerHeaders = seen.headers;
        }
        expect(answerHeaders?.get('retry-after')).toMatch(/^[1-9]\d*$/);

        const [cancelled] = await pollUntil(
          () => w.tasksOf(model, 'cancelled'),
          (tasks) => tasks.length === 1,
          { describe: `the timed-out task of ${model} to be cancelled` },
        );
        expect(cancelled).toMatchObject({ gateway: dialect, operation: 'chat', model, attempts: 0 });
        // The refusal names the task it cancelled.
        expect(answerHeaders?.get('x-hive-task-id')).toBe(cancelled?.id);
        slot.open();
        await expect(holder).resolves.toBe('echo: holder');
        // The timed-out call never reached the agent.
        expect(agent.requests.map(promptOf)).toEqual(['holder']);
      },
    );

    it('waits while the only slot is taken, then runs once it frees; x-hive-queue-ms says how long it waited', async () => {
      const { agent, id, model, slot, holder } = await w.busyAgent('qwait');
      const seen: Seen = { pieces: [] };
      let answered = false;
      const waiting = w.inBackground(
        w
          .gateway()
          .chat('ollama', model, 'patience', { seen })
          .finally(() => (answered = true)),
      );

      await w.waitForQueued(model, 1);
      expect(answered).toBe(false);
      expect(agent.requests).toHaveLength(1);
      slot.open();

      await expect(waiting).resolves.toBe('echo: patience');
      await expect(holder).resolves.toBe('echo: holder');
      expect(agent.requests.map(promptOf)).toEqual(['holder', 'patience']);
      expect(seen.headers?.get('x-hive-agent')).toBe(id);
      expect(Number(seen.headers?.get('x-hive-queue-ms'))).toBeGreaterThan(0);
      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'completed', gateway: 'ollama', attempts: 1, assigned_agent: id });
    });

    it('x-hive-priority orders the queue: a priority-5 call queued after a priority-1 one reaches the agent first', async () => {
      const { agent, model, slot, holder } = await w.busyAgent('qprio');
      const call = (prompt: string, priority: string) =>
        w.inBackground(w.gateway().chat('openai', model, prompt, { headers: { 'x-hive-priority': priority } }));

      const low = call('low', '1');
      await w.waitForQueued(model, 1);
      const high = call('high', '5');
      await w.waitForQueued(model, 2);
      slot.open();

      await expect(Promise.all([holder, low, high])).resolves.toEqual(['echo: holder', 'echo: low', 'echo: high']);
      expect(agent.requests.map(promptOf)).toEqual(['holder', 'high', 'low']);
      const priorities = (await w.tasksOf(model)).map((t) => [chatPromptOf(t), t.priority]);
      expect(priorities.sort()).toEqual([
        ['high', 5],
        ['holder', 3],
        ['low', 1],
      ]);
    });

    it.each([
      ['x-hive-priority', '9'],
      ['x-hive-priority', '0'],
      ['x-hive-queue-timeout-ms', '-1'],
      ['x-hive-queue-timeout-ms', 'abc'],
    ])('%s: %s is refused with 400 in each dialect’s error shape, and nothing is queued', async (header, value) => {
      const { model } = await w.serve('qbad');
      const headers = { [header]: value };
      const messages = [{ role: 'user', content: 'x' }];

      const openaiError = await rejectionOf(w.gateway().chat('openai', model, 'x', { headers }));
      expect(openaiError).toBeInstanceOf(BadRequestError);
      expect(openaiError).toMatchObject({ status: 400, type: 'invalid_request_error' });
      const openaiRaw = await w.gateway().post('/v1/chat/completions', { model, messages }, headers);
      expect(openaiRaw.status).toBe(400);
      const { error } = (await openaiRaw.json()) as { error: Record<string, unknown> };
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(JSON.stringify(error)).toContain(header);

      const ollamaError = await rejectionOf(w.gateway().chat('ollama', model, 'x', { headers }));
      expect(ollamaError).toMatchObject({ name: 'ResponseError', status_code: 400 });
      const ollamaRaw = await w.gateway().post('/api/chat', { model, messages }, headers);
      expect(ollamaRaw.status).toBe(400);
      const body = (await ollamaRaw.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toEqual(expect.stringContaining(header));

      expect(await w.tasksOf(model)).toEqual([]);
    });
  });

  describe('the headers of an answer', () => {
    it.each([
      ['openai', false, 'ollama'],
      ['openai', true, 'ollama'],
      ['ollama', false, 'ollama'],
      ['ollama', true, 'ollama'],
      ['openai', false, 'openai'],
      ['openai', true, 'openai'],
      ['ollama', false, 'openai'],
      ['ollama', true, 'openai'],
    ] as [Dialect, boolean, AgentProtocol][])(
      '%s (stream: %s) on an %s agent: x-hive-task-id, x-hive-agent and x-hive-queue-ms, and no hop-by-hop header of the agent’s',
      async (dialect, stream, kind) => {
        const { id, model } = await w.serve('headers', { kind });
        const path = dialect === 'openai' ? '/v1/chat/completions' : '/api/chat';
        const res = await w.gateway().post(path, { model, stream, messages: [{ role: 'user', content: 'hi' }] });
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(text).toContain('echo:');

        const taskId = res.headers.get('x-hive-task-id') ?? '';
        expect(taskId).toMatch(UUID);
        expect(res.headers.get('x-hive-agent')).toBe(id);
        expect(res.headers.get('x-hive-queue-ms')).toMatch(/^\d+$/);
        const task = await w.api().getTask(taskId);
        expect(task).toMatchObject({ gateway: dialect, operation: 'chat', model, assigned_agent: id });

        // Connection management is between Hive and its client: the same as on any route of Hive's own.
        const own = await fetch(`${world().hive.url}/health`);
        await own.text();
        expect(res.headers.get('connection')).toBe(own.headers.get('connection'));
        expect(res.headers.get('keep-alive')).toBe(own.headers.get('keep-alive'));
        // Hive frames the body itself: chunked once (a stream), or a length, never both and never the agent's.
        const framing = [res.headers.get('transfer-encoding'), res.headers.get('content-length') !== null];
        expect([
          ['chunked', false],
          [null, true],
        ]).toContainEqual(framing);
        for (const hop of ['proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'upgrade']) {
          expect([hop, res.headers.get(hop)]).toEqual([hop, null]);
        }
      },
    );
  });

  it('by default (GATEWAY_RETAIN=full) a gateway task keeps its input and its result', async () => {
    const { model } = await w.serve('rfull');
    const seen: Seen = { pieces: [] };
    await expect(w.gateway().chat('openai', model, 'keep me', { seen })).resolves.toBe('echo: keep me');

    const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
    expect(task).toMatchObject({
      status: 'completed',
      retain: 'full',
      input: { messages: [{ role: 'user', content: 'keep me' }] },
      result: { message: { role: 'assistant', content: 'echo: keep me' }, model },
    });
  });
});

describe('gateway: GATEWAY_RETAIN=metadata, GATEWAY_QUEUE_TIMEOUT_MS=300 (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture({ GATEWAY_RETAIN: 'metadata', GATEWAY_QUEUE_TIMEOUT_MS: '300' });
  const w = gatewayWorld(world);

  it('a call without x-hive-queue-timeout-ms waits GATEWAY_QUEUE_TIMEOUT_MS in the queue, then gets 503', async () => {
    const { model, slot, holder } = await w.busyAgent('qdefault');

    const error = await rejectionOf(w.gateway().chat('openai', model, 'too late'));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, code: 'queue_timeout' });
    slot.open();
    await expect(holder).resolves.toBe('echo: holder');
    await expect(w.tasksOf(model, 'cancelled')).resolves.toHaveLength(1);
  });

  it.each([
    ['openai', false],
    ['ollama', true],
  ] as [Dialect, boolean][])(
    '%s (stream: %s): once the call ended, the task keeps no input and no answer text, only its metadata',
    async (dialect, stream) => {
      const { id, model, agent } = await w.serve('rmeta');
      const seen: Seen = { pieces: [] };
      await expect(w.gateway().chat(dialect, model, 'forget me', { stream, seen })).resolves.toBe('echo: forget me');
      // The agent got the whole conversation: only what Hive keeps is cut.
      expect(agent.requests.map(promptOf)).toEqual(['forget me']);

      const taskId = seen.headers?.get('x-hive-task-id') ?? '';
      const task = await w.api().waitForTask(taskId, (t) => t.status === 'completed' && t.input === null);
      expect(task).toMatchObject({ retain: 'metadata', gateway: dialect, assigned_agent: id, attempts: 1 });
      expect(task.result).toEqual(
        expect.objectContaining({
          model,
          done_reason: 'stop',
          prompt_eval_count: expect.any(Number) as unknown,
          eval_count: expect.any(Number) as unknown,
        }),
      );
      expect(task.result).not.toHaveProperty('message');
      expect(task.result).not.toHaveProperty('response');
      expect(task.result).not.toHaveProperty('embeddings');
    },
  );
});
