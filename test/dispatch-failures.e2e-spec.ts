import type { AgentBehavior } from './support/ollama-agent.js';
import { firstRequestFails, suiteFixture } from './support/hive-fixture.js';
import { waitUntil } from './support/poll.js';

/** Retries (and on which agent), immediate failures, and what a misbehaving agent does to a task and to Hive. */
describe('dispatch: agent failures (in-process Hive, real PostgreSQL, real agent servers)', () => {
  const world = suiteFixture();

  /** Two agents of one specialty; the first to get a request misbehaves with `bad`, the other then answers. */
  async function retryScenario(type: string, bad: AgentBehavior, task: { timeout_ms?: number } = {}) {
    const { api, agents } = world();
    const pair = [await agents.start(), await agents.start()] as const;
    const script = firstRequestFails(pair, bad);
    await api.registerAgent({ id: `${type}-a`, endpoint: pair[0].url, specialty: type });
    await api.registerAgent({ id: `${type}-b`, endpoint: pair[1].url, specialty: type });
    const submitted = await api.submitTask({ type, context: { prompt: `retry after ${bad.kind}` }, ...task });
    const done = await api.waitForTask(submitted.id, (t) => t.status !== 'pending' && t.status !== 'in_progress');
    const first = script.first();
    if (first === undefined) throw new Error(`no agent received task ${submitted.id}: ${JSON.stringify(done)}`);
    const second = first === pair[0] ? pair[1] : pair[0];
    return { done, first, second, secondId: second === pair[0] ? `${type}-a` : `${type}-b` };
  }

  it('retries a task on another agent after an HTTP 500', async () => {
    const { done, first, second, secondId } = await retryScenario('err500', {
      kind: 'error',
      status: 500,
      message: 'CUDA error',
    });
    expect(done).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: secondId, error: null });
    expect(done.result).toMatchObject({ response: 'echo: retry after error' });
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
  });

  it('retries a task on another agent after its timeout_ms passes (the hung call is aborted)', async () => {
    // The first call never ends, so timeout_ms decides it; the retry must answer within timeout_ms too, so it is
    // as long as the suite's HTTP timeouts (2 s), which a loaded machine's local echo never comes near.
    const timeoutMs = 2_000;
    const { done, first, second, secondId } = await retryScenario('hung', { kind: 'hang' }, { timeout_ms: timeoutMs });
    expect(done).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: secondId, timeout_ms: timeoutMs });
    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
    // Hive closed the hung request when it gave up on it (the agent sees the socket close a few ticks later).
    await waitUntil(() => first.inFlight === 0, {
      describe: 'the hung request to be closed',
      state: () => first.inFlight,
    });
  });

  it('retries a task on another agent after a malformed (wrong-shape) answer', async () => {
    const { done, first, secondId } = await retryScenario('shape', { kind: 'wrong-shape' });
    expect(done).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: secondId });
    expect(first.requests).toHaveLength(1);
  });

  it('fails at once, without retrying, when the agent answers 404 model not found and no other serves it', async () => {
    const { api, agents } = world();
    // Its list says it serves the model, but the call finds it gone (deleted between two probes).
    const agent = await agents.start({ models: ['llama3:8b'], behavior: { kind: 'model-not-found' } });
    await api.registerAgent({ id: 'nomodel-1', endpoint: agent.url, specialty: 'nomodel', model: 'llama3:8b' });
    const submitted = await api.submitTask({ type: 'nomodel', context: { prompt: 'hi' }, max_attempts: 5 });

    const task = await api.waitForTask(submitted.id, 'failed');
    expect(task).toMatchObject({ attempts: 1, max_attempts: 5, result: null, assigned_agent: 'nomodel-1' });
    expect(task.error).toContain("agent nomodel-1: HTTP 404: model 'llama3:8b' not found");
    expect(agent.requests).toHaveLength(1);
    // A wrong model name is not the server's fault: the agent stays online.
    await expect(api.getAgent('nomodel-1')).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('fails a task after max_attempts of malformed JSON answers, with a clear error, and keeps serving', async () => {
    const { api, agents, hive } = world();
    const agent = await agents.start({ behavior: { kind: 'malformed' } });
    await api.registerAgent({ id: 'garbled-1', endpoint: agent.url, specialty: 'garbled' });
    const submitted = await api.submitTask({ type: 'garbled', context: { prompt: 'hi' }, max_attempts: 2 });

    const task = await api.waitForTask(submitted.id, 'failed');
    expect(task).toMatchObject({ attempts: 2, max_attempts: 2, result: null });
    expect(task.error).toMatch(/^agent garbled-1: .*invalid JSON/);
    expect(agent.requests).toHaveLength(2);
    const health = await fetch(`${hive.url}/health`);
    expect(health.status).toBe(200);
    await expect(api.getAgent('garbled-1')).resolves.toMatchObject({
      last_error: expect.stringContaining('invalid JSON') as unknown,
    });
  });

  it('fails a task whose answers PostgreSQL cannot store, with the reason, instead of leaving it running', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ behavior: { kind: 'ok', response: 'text with a \u0000 in it' } });
    await api.registerAgent({ id: 'nul-1', endpoint: agent.url, specialty: 'nul' });
    const submitted = await api.submitTask({ type: 'nul', context: { prompt: 'hi' }, max_attempts: 2 });

    const task = await api.waitForTask(submitted.id, 'failed');
    expect(task).toMatchObject({ attempts: 2, max_attempts: 2, result: null });
    expect(task.error).toMatch(/^agent nul-1: its answer cannot be stored: .*unsupported Unicode escape sequence/);
    expect(agent.requests).toHaveLength(2);
  });

  it('retries an Ollama 503 "server busy" without counting it against the agent', async () => {
    const { api, agents } = world();
    const agent = await agents.start();
    agent.queueBehaviors({ kind: 'busy' }, { kind: 'busy' });
    await api.registerAgent({ id: 'busy-1', endpoint: agent.url, specialty: 'busy' });
    const submitted = await api.submitTask({ type: 'busy', context: { prompt: 'when you can' } });

    const task = await api.waitForTask(submitted.id, 'completed');
    expect(task).toMatchObject({ attempts: 3, assigned_agent: 'busy-1', error: null });
    expect(agent.requests).toHaveLength(3);
    await expect(api.getAgent('busy-1')).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('fails a task whose agent stays busy once max_attempts is reached, naming the cause', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ behavior: { kind: 'busy' } });
    await api.registerAgent({ id: 'busy-2', endpoint: agent.url, specialty: 'busy2' });
    const submitted = await api.submitTask({ type: 'busy2', context: { prompt: 'now' }, max_attempts: 3 });

    const task = await api.waitForTask(submitted.id, 'failed');
    expect(task).toMatchObject({ attempts: 3 });
    expect(task.error).toContain('agent busy-2: HTTP 503: server busy');
    expect(agent.requests).toHaveLength(3);
  });
});
