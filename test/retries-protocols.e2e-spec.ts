import type { Task } from './support/api.js';
import { suiteFixture } from './support/hive-fixture.js';
import type { AgentBehavior, AgentProtocol, OllamaAgent } from './support/ollama-agent.js';

const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

/** Which failures of each protocol are retried (and after how long), and which fail the task at once. */
describe('retries across protocols (in-process Hive, real PostgreSQL, real agent servers)', () => {
  const world = suiteFixture();
  let serial = 0;

  /** One agent of `kind`, alone in a specialty of its own, whose next answers are `first` before normal ones. */
  async function lone(kind: AgentProtocol, ...first: AgentBehavior[]): Promise<{ agent: OllamaAgent; id: string }> {
    const { api, agents } = world();
    const agent = await agents.start({ protocol: kind });
    agent.queueBehaviors(...first);
    const id = `${kind}-${++serial}`;
    await api.registerAgent({ id, kind, endpoint: agent.url, specialty: id });
    return { agent, id };
  }

  async function runToEnd(type: string, maxAttempts = 3): Promise<Task> {
    const { api } = world();
    const submitted = await api.submitTask({ type, context: { prompt: 'try hard' }, max_attempts: maxAttempts });
    return api.waitForTask(submitted.id, finished);
  }

  it('an Ollama agent answers 500: the retry goes to an OpenAI agent, which answers', async () => {
    const { api, agents } = world();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ollama = await agents.start({ behavior: { kind: 'error', status: 500, message: 'CUDA error', gate } });
    const openai = await agents.start({ protocol: 'openai' });
    await api.registerAgent({ id: 'mixed-ollama', endpoint: ollama.url, specialty: 'mixed' });
    // Disabled until the Ollama agent holds the task, so that the first attempt is surely the Ollama one.
    await api.registerAgent({
      id: 'mixed-openai',
      kind: 'openai',
      endpoint: openai.url,
      specialty: 'mixed',
      enabled: false,
    });
    const submitted = await api.submitTask({ type: 'mixed', context: { prompt: 'try hard' } });
    await ollama.waitForRequests(1);
    await api.updateAgent('mixed-openai', { enabled: true });
    release();

    const task = await api.waitForTask(submitted.id, finished);
    expect(task).toMatchObject({ status: 'completed', attempts: 2, assigned_agent: 'mixed-openai', error: null });
    expect(task.result).toMatchObject({ response: 'echo: try hard', done_reason: 'stop' });
    expect(ollama.requests.map((r) => r.path)).toEqual(['/api/generate']);
    expect(openai.requests.map((r) => [r.path, r.messages])).toEqual([
      ['/v1/chat/completions', [{ role: 'user', content: 'try hard' }]],
    ]);
    await expect(api.getAgent('mixed-ollama')).resolves.toMatchObject({ last_error: 'HTTP 500: CUDA error' });
  });

  it('OpenAI 429 with Retry-After: retried, and not before the time the agent asked for', async () => {
    const retryAfterS = 1;
    const { agent, id } = await lone('openai', { kind: 'rate-limited', retryAfterS });

    const task = await runToEnd(id);
    expect(task).toMatchObject({ status: 'completed', attempts: 2, error: null });
    expect(agent.requests).toHaveLength(2);
    const [first, second] = agent.requests;
    // Hive promises the order (the retry after the Retry-After), not a speed: the gap has a floor, no ceiling.
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(retryAfterS * 1000);
    // Asked to come back later is not the agent failing.
    await expect(world().api.getAgent(id)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('OpenAI 429 with Retry-After: no other task goes to that agent before the time it asked for', async () => {
    const { api } = world();
    const retryAfterS = 2;
    const { agent, id } = await lone('openai', { kind: 'rate-limited', retryAfterS });
    const first = await api.submitTask({ type: id, context: { prompt: 'first' } });
    const paused = await api.waitForAgent(id, (a) => a.paused_until !== null, 'to be paused');
    const pausedUntil = Date.parse(paused.paused_until ?? '');

    const second = await api.submitTask({ type: id, context: { prompt: 'second' } });
    await Promise.all([first, second].map((t) => api.waitForTask(t.id, 'completed')));
    // Both waited out the pause: the second task's only call, and the first task's retry, come after it.
    const after = agent.requests.slice(1);
    const asked = (content: string) => JSON.stringify([{ role: 'user', content }]);
    expect(after.map((r) => JSON.stringify(r.messages)).sort()).toEqual([asked('first'), asked('second')]);
    for (const request of after) expect(request.receivedAt).toBeGreaterThanOrEqual(pausedUntil);
    await expect(api.getAgent(id)).resolves.toMatchObject({ paused_until: null, consecutive_failures: 0 });
  });

  it('OpenAI 400: the task fails at once with the server’s text, and the agent is not blamed', async () => {
    const text = "'max_tokens' is too large: 99999. This model's maximum context length is 8192 tokens.";
    const { agent, id } = await lone('openai', { kind: 'error', status: 400, message: text });

    const task = await runToEnd(id, 3);
    expect(task).toMatchObject({ status: 'failed', attempts: 1, max_attempts: 3, result: null });
    expect(task.error).toBe(`agent ${id}: HTTP 400: ${text}`);
    expect(agent.requests).toHaveLength(1);
    await expect(world().api.getAgent(id)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('OpenAI 503 (busy): retried without counting against the agent', async () => {
    const { agent, id } = await lone('openai', { kind: 'busy' }, { kind: 'busy' });

    const task = await runToEnd(id, 3);
    expect(task).toMatchObject({ status: 'completed', attempts: 3, error: null });
    expect(agent.requests).toHaveLength(3);
    await expect(world().api.getAgent(id)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('OpenAI 503 on every attempt: fails once max_attempts is reached, naming the cause', async () => {
    const { agent, id } = await lone('openai', { kind: 'busy' }, { kind: 'busy' });

    const task = await runToEnd(id, 2);
    expect(task).toMatchObject({ status: 'failed', attempts: 2, result: null });
    expect(task.error).toBe(`agent ${id}: HTTP 503: server busy`);
    expect(agent.requests).toHaveLength(2);
  });

  it.each<AgentProtocol>(['ollama', 'openai'])(
    '%s: a connection reset mid-call is retried, and the retry answers',
    async (kind) => {
      const { agent, id } = await lone(kind, { kind: 'down' });

      const task = await runToEnd(id);
      expect(task).toMatchObject({ status: 'completed', attempts: 2, error: null });
      expect(task.result?.response).toBe('echo: try hard');
      expect(agent.requests).toHaveLength(2);
    },
  );

  it.each<'malformed' | 'wrong-shape'>(['malformed', 'wrong-shape'])(
    'OpenAI: a %s answer is retried, and the retry answers',
    async (kind) => {
      const { agent, id } = await lone('openai', { kind });

      const task = await runToEnd(id);
      expect(task).toMatchObject({ status: 'completed', attempts: 2, error: null });
      expect(task.result?.response).toBe('echo: try hard');
      expect(agent.requests).toHaveLength(2);
      // A malformed answer is the agent's fault, and says what was wrong.
      const agentNow = await world().api.getAgent(id);
      expect(agentNow.last_error).toMatch(kind === 'malformed' ? /invalid JSON/ : /lacks choices\[0\]\.message/);
    },
  );
});
