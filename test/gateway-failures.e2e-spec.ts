import { firstRequestFails, suiteFixture } from './support/hive-fixture.js';
import {
  DIALECT_STREAMS,
  expectStreamErrorEvent,
  finished,
  gatewayWorld,
  rejectionOf,
  type Dialect,
  type Seen,
} from './support/gateway-world.js';
import type { AgentBehavior } from './support/ollama-agent.js';
import { pollUntil, waitUntil } from './support/poll.js';
import { parseSamples, sampleValue, type Sample } from './support/prometheus-text.js';
import { scrape } from './support/scrape.js';

/** The requests the gateway counted for `model`: one entry per series of hive_gateway_requests_total. */
function requestsCounted(samples: readonly Sample[], model: string): Record<string, string | number>[] {
  return samples
    .filter((s) => s.name === 'hive_gateway_requests_total' && s.labels.model === model)
    .sort((a, b) => `${a.labels.dialect}/${a.labels.outcome}`.localeCompare(`${b.labels.dialect}/${b.labels.outcome}`))
    .map((s) => ({ ...s.labels, value: s.value }));
}

describe('gateway: failover, broken streams, aborts and metrics (in-process Hive, real PostgreSQL, real agents)', () => {
  const world = suiteFixture();
  const w = gatewayWorld(world);

  it.each([
    ['openai', false, 'answers 500'],
    ['openai', true, 'is down'],
    ['ollama', false, 'is down'],
    ['ollama', true, 'answers 500'],
  ] as [Dialect, boolean, string][])(
    '%s (stream: %s): the agent chosen first %s: the call is answered by the other one, invisibly (attempts 2)',
    async (dialect, stream, failure) => {
      const one = await w.serve('failover');
      const other = await w.serve('failover', { model: one.model });
      const bad: AgentBehavior =
        failure === 'is down' ? { kind: 'down' } : { kind: 'error', status: 500, message: 'CUDA error' };
      // Whichever agent Hive picks first fails; the other one answers.
      const choice = firstRequestFails([one.agent, other.agent], bad);
      const seen: Seen = { pieces: [] };

      await expect(w.gateway().chat(dialect, one.model, 'fail over', { stream, seen })).resolves.toBe(
        'echo: fail over',
      );
      const answering = choice.first() === one.agent ? other : one;
      expect(choice.first()).toBeDefined();
      expect(seen.headers?.get('x-hive-agent')).toBe(answering.id);
      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: answering.id, gateway: dialect });
      expect([one.agent.requests.length, other.agent.requests.length]).toEqual([1, 1]);
    },
  );

  it.each<Dialect>(['openai', 'ollama'])(
    '%s: an agent stream that breaks after 2 pieces: the client gets them, then an error; the task failed, not retried',
    async (dialect) => {
      const { agent, model, id } = await w.serve('midstream', {
        behavior: { kind: 'stream-error', afterChunks: 2, message: 'CUDA out of memory' },
      });
      const seen: Seen = { pieces: [] };

      const error = await rejectionOf(w.gateway().chat(dialect, model, 'alpha beta gamma', { stream: true, seen }));
      expect(seen.pieces.join('')).toBe('echo: alpha ');
      expectStreamErrorEvent(dialect, error);

      const task = await w.api().waitForTask(seen.headers?.get('x-hive-task-id') ?? '', finished);
      expect(task).toMatchObject({ status: 'failed', attempts: 1, assigned_agent: id, result: null });
      expect(task.error).toContain('CUDA out of memory');
      expect(agent.requests).toHaveLength(1);
    },
  );

  it.each(DIALECT_STREAMS)(
    '%s (stream: %s): a client that goes away cancels its task, and Hive closes its call to the agent',
    async (dialect, stream) => {
      const never = w.gate();
      // Streaming: the first piece reaches the client, the next one would come a minute later.
      const behavior: AgentBehavior = stream
        ? { kind: 'ok', response: 'one two three', chunkDelayMs: 60_000 }
        : { kind: 'ok', gate: never.promise };
      const { agent, model } = await w.serve('abort', { behavior });
      const controller = new AbortController();
      const seen: Seen = { pieces: [] };

      const call = w.inBackground(w.gateway().chat(dialect, model, 'x', { stream, seen, signal: controller.signal }));
      if (stream) {
        await waitUntil(() => seen.pieces.join('') === 'one ', {
          describe: 'the first piece to reach the client',
          state: () => seen.pieces,
        });
      } else {
        await agent.waitForRequests(1);
      }
      controller.abort();
      // The openai client ends a stream its caller aborted quietly, with what had come; the others throw.
      if (dialect === 'openai' && stream) await expect(call).resolves.toBe('one ');
      else await expect(call).rejects.toThrow();

      await agent.waitForAborts(1);
      const [task] = await w.tasksOf(model);
      await expect(w.api().waitForTask(task?.id ?? '', finished)).resolves.toMatchObject({
        status: 'cancelled',
        gateway: dialect,
      });
      expect(agent.requests).toHaveLength(1);
    },
  );

  it('metrics: calls counted by dialect, endpoint, model and outcome; time to first token and queue wait observed', async () => {
    const url = world().hive.url;
    const slot = w.gate();
    const { agent, model } = await w.serve('metrics');
    // The first call holds the only slot until the gate opens; the one after it is left hanging.
    agent.queueBehaviors({ kind: 'ok', gate: slot.promise }, { kind: 'hang' });
    const queueWaits = (samples: readonly Sample[]) =>
      sampleValue(samples, 'hive_gateway_queue_wait_seconds_count', { dialect: 'openai' }) ?? 0;
    const before = parseSamples(await scrape(url));

    // Streamed, so that its first token is timed.
    const completed = w.inBackground(w.gateway().chat('openai', model, 'first', { stream: true }));
    await agent.waitForRequests(1);
    const timedOut = w.gateway().chat('openai', model, 'late', { headers: { 'x-hive-queue-timeout-ms': '300' } });
    await expect(rejectionOf(timedOut)).resolves.toMatchObject({ status: 503, code: 'queue_timeout' });
    slot.open();
    await expect(completed).resolves.toBe('echo: first');
    const controller = new AbortController();
    const closed = w.inBackground(w.gateway().chat('ollama', model, 'gone', { signal: controller.signal }));
    await agent.waitForRequests(2);
    controller.abort();
    await expect(closed).rejects.toThrow();

    // The abort is counted once Hive has seen the connection close.
    const samples = await pollUntil(
      async () => parseSamples(await scrape(url)),
      (now) => requestsCounted(now, model).length === 3,
      { describe: `three series of hive_gateway_requests_total for ${model}` },
    );
    expect(requestsCounted(samples, model)).toEqual([
      { dialect: 'ollama', endpoint: '/api/chat', model, outcome: 'client_closed', value: 1 },
      { dialect: 'openai', endpoint: '/v1/chat/completions', model, outcome: 'completed', value: 1 },
      { dialect: 'openai', endpoint: '/v1/chat/completions', model, outcome: 'queue_timeout', value: 1 },
    ]);
    // Only the completed call sent a token.
    const firstToken = { dialect: 'openai', model };
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_count', firstToken)).toBe(1);
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_sum', firstToken)).toBeGreaterThan(0);
    expect(sampleValue(samples, 'hive_gateway_time_to_first_token_seconds_count', { dialect: 'ollama', model })).toBe(
      undefined,
    );
    expect(queueWaits(samples) - queueWaits(before)).toBeGreaterThanOrEqual(1);
    const buckets = samples.filter((s) => s.name === 'hive_gateway_queue_wait_seconds_bucket');
    expect(buckets.map((s) => s.labels.dialect)).toContain('openai');
  });
});
