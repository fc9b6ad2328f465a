import { startHiveFixture, suiteFixture } from './support/hive-fixture.js';
import { messages, type Agent, type Task } from './support/api.js';
import { spawnHive } from './support/hive-process.js';
import type { AgentProtocol } from './support/ollama-agent.js';
import { pollUntil, waitUntil } from './support/poll.js';
import { isRunning, LEVEL, level, stopHiveProcess } from './support/process-control.js';

const SECRET = 'hive-test-secret-key-0123456789-abcdefghij';
/** Distinctive enough that any copy of it, whole, in an answer, a log line or a row is found. */
const KEY = 'sk-agent-Zq8vX1-do-not-leak-4f0e9c2b';

const finished = (t: Task): boolean => t.status !== 'pending' && t.status !== 'in_progress';

/** Agents' own API keys: sent to the agent, encrypted at rest, never shown; a refused or missing key. */
describe('agent API keys (in-process Hive, real PostgreSQL, agents that require a key)', () => {
  // Debug logging too, so that the log checks cover everything Hive writes.
  const world = suiteFixture({ HIVE_SECRET_KEY: SECRET, LOG_LEVEL: 'debug' });
  let serial = 0;

  /** An agent of `kind` that answers 401 unless sent `Bearer <agentKey>`, registered in Hive with `api_key`. */
  async function keyedAgent(kind: AgentProtocol, apiKey: string | undefined, agentKey = KEY) {
    const { api, agents } = world();
    const agent = await agents.start({ protocol: kind, apiKey: agentKey, models: ['llama3:8b'] });
    const id = `keyed-${kind}-${++serial}`;
    const registered = await api.request('POST', '/api/agents', {
      id,
      kind,
      endpoint: agent.url,
      specialty: id,
      model: 'llama3:8b',
      ...(apiKey === undefined ? {} : { api_key: apiKey }),
    });
    expect(registered.status).toBe(201);
    expect(JSON.stringify(registered.body)).not.toContain(apiKey ?? KEY);
    return { agent, id };
  }

  const storedKey = async (id: string): Promise<string | null> => {
    const rows = await world().db.query<{ api_key_encrypted: string | null }>(
      'SELECT api_key_encrypted FROM agents WHERE id = $1',
      [id],
    );
    return rows[0]?.api_key_encrypted ?? null;
  };

  it.each<AgentProtocol>(['openai', 'ollama'])(
    '%s: the agent gets Authorization: Bearer <key> on its probes and its calls',
    async (kind) => {
      const { api } = world();
      const { agent, id } = await keyedAgent(kind, KEY);

      // The agent refuses a probe without the key (401), so finding its models means the probe carried it.
      const probed = await api.waitForModels(id, ['llama3:8b']);
      expect(probed).toMatchObject({ has_api_key: true, status: 'available', consecutive_failures: 0 });
      expect(probed.last_error).toBeNull();
      const submitted = await api.submitTask({ type: id, operation: 'chat', context: { prompt: 'hi' } });
      const task = await api.waitForTask(submitted.id, finished);

      expect(task).toMatchObject({ status: 'completed', attempts: 1 });
      expect(agent.requests.map((r) => r.authorization)).toEqual([`Bearer ${KEY}`]);
    },
  );

  it('never shows the key: not in any answer, not in any log line, not in clear in the database', async () => {
    const { api, hive, db } = world();
    const { id } = await keyedAgent('openai', KEY);
    const { id: twin } = await keyedAgent('openai', KEY);
    await api.waitForModels(id);
    // A call with the key, so that the log holds what a call writes too.
    const submitted = await api.submitTask({ type: id, context: { prompt: 'hi' } });
    await api.waitForTask(submitted.id, 'completed');

    // A key Hive refuses (it has a space): the 400 names the field, not the value.
    const badKey = { id: 'bad', endpoint: 'http://127.0.0.1:9', model: 'm', specialty: 's', api_key: `${KEY} x` };
    const refused = await api.request('POST', '/api/agents', badKey);
    expect(refused.status).toBe(400);
    expect(messages(refused.body)).toEqual(['api_key must be 1–4096 printable characters without spaces']);
    const answers = [
      refused.body,
      await api.getAgent(id),
      await api.expect(200, 'GET', '/api/agents'),
      await api.expect(200, 'GET', '/api/status'),
      await api.updateAgent(id, { max_concurrent: 3 }),
      await api.updateAgent(id, { api_key: KEY }), // the same key again: a fresh ciphertext, never echoed
    ];
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(KEY);
    const agent: Agent = await api.getAgent(id);
    expect(agent.has_api_key).toBe(true);
    expect(Object.keys(agent).filter((k) => k.includes('key'))).toEqual(['has_api_key']);

    const logs = hive.logs.text();
    expect(logs).toContain(`"url":"/api/agents/${id}"`); // the capture holds the requests above
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(SECRET);

    const rows = await db.query<{ id: string; api_key_encrypted: string; row: string }>(
      'SELECT id, api_key_encrypted, row_to_json(a)::text AS row FROM agents a WHERE id = ANY($1) ORDER BY id',
      [[id, twin]],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.api_key_encrypted).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.row).not.toContain(KEY);
    }
    // The same key on two agents: two different ciphertexts (a random IV each, and each bound to its agent).
    expect(rows[0]?.api_key_encrypted).not.toBe(rows[1]?.api_key_encrypted);
  });

  it("a ciphertext copied onto another agent does not decrypt there: Hive's own problem, not the agent's", async () => {
    const { api, db, hive } = world();
    const { id: owner } = await keyedAgent('openai', KEY);
    const { id: thief } = await keyedAgent('openai', KEY);
    await api.waitForModels(thief);

    await db.query(
      'UPDATE agents SET api_key_encrypted = (SELECT api_key_encrypted FROM agents WHERE id = $1) WHERE id = $2',
      [owner, thief],
    );
    // Probes skip it with a warning; the agent is not counted as failing.
    await waitUntil(() => hive.logs.text().includes(`Cannot probe agent ${thief}: its api_key cannot be decrypted`), {
      describe: 'the probe to be skipped with a warning',
    });
    await expect(api.getAgent(thief)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
    // A task for it is retried, then fails saying why.
    const submitted = await api.submitTask({ type: thief, context: { prompt: 'hi' }, max_attempts: 2 });
    const task = await api.waitForTask(submitted.id, finished);
    expect(task).toMatchObject({ status: 'failed', attempts: 2 });
    expect(task.error).toMatch(new RegExp(`^agent ${thief}: its api_key cannot be decrypted with HIVE_SECRET_KEY: `));
    expect(task.error).not.toContain(KEY);
    await expect(api.getAgent(thief)).resolves.toMatchObject({ status: 'available', consecutive_failures: 0 });
  });

  it('PATCH api_key null removes the key: the agent answers 401 and goes offline; PATCH the key back and it returns', async () => {
    const { api } = world();
    const { id } = await keyedAgent('openai', KEY);
    await api.waitForModels(id);

    const removed = await api.updateAgent(id, { api_key: null });
    expect(removed.has_api_key).toBe(false);
    await expect(storedKey(id)).resolves.toBeNull();
    const offline = await api.waitForAgent(id, (a) => a.status === 'offline', 'to go offline after failed probes');
    expect(offline.consecutive_failures).toBeGreaterThanOrEqual(2); // AGENT_MAX_FAILURES in the fixture
    expect(offline.last_error).toContain('HTTP 401');
    expect(offline.enabled).toBe(true);

    await api.updateAgent(id, { api_key: KEY });
    const back = await api.waitForAgent(id, (a) => a.status === 'available', 'to be back online with its key');
    expect(back).toMatchObject({ has_api_key: true, consecutive_failures: 0 });
  });

  it('a wrong key: the probe is refused with 401, which last_error says', async () => {
    const { api } = world();
    const { agent, id } = await keyedAgent('openai', 'sk-not-the-right-one-000', KEY);

    const refused = await api.waitForAgent(id, (a) => a.last_error !== null, 'to have a probe refused');
    expect(refused.last_error).toBe('probe failed: HTTP 401: Incorrect API key provided.');
    expect(refused.models_probed_at).toBeNull();
    expect(agent.modelsCalls).toBeGreaterThan(0);
  });

  it('a long error answer is cut to 1,000 characters, with no piece of the key left where the cut falls', async () => {
    const { api } = world();
    const { agent, id } = await keyedAgent('openai', KEY);
    // The key straddles where a cut of the raw text would fall: the cut comes after the key is out of it.
    const message = `${'x'.repeat(990 - 'HTTP 401: '.length - KEY.length / 2)}${KEY}${'y'.repeat(4_000)}`;
    agent.setBehavior({ kind: 'error', status: 401, message });
    await api.waitForModels(id);
    const submitted = await api.submitTask({ type: id, context: { prompt: 'hi' }, max_attempts: 1 });

    const task = await api.waitForTask(submitted.id, finished);
    const error = task.error ?? '';
    expect(error.length).toBeLessThanOrEqual(`agent ${id}: `.length + 1_000);
    expect(error).toContain('[redacted]');
    for (let i = 0; i + 8 <= KEY.length; i++) expect(error).not.toContain(KEY.slice(i, i + 8));
  });

  it('an agent whose error answer echoes the key: the key is still not shown, stored or logged', async () => {
    const { api, hive, db } = world();
    const { agent, id } = await keyedAgent('openai', KEY);
    // Some proxies quote the key they refused; Hive must not pass it on in the task's error or the agent's.
    agent.setBehavior({ kind: 'error', status: 401, message: `Invalid proxy token passed. Received API Key = ${KEY}` });
    await api.waitForModels(id);
    const submitted = await api.submitTask({ type: id, context: { prompt: 'hi' }, max_attempts: 2 });

    const task = await api.waitForTask(submitted.id, finished);
    expect(task).toMatchObject({ status: 'failed', attempts: 2 });
    expect(task.error).toBe(`agent ${id}: HTTP 401: Invalid proxy token passed. Received API Key = [redacted]`);
    const answers = [
      task,
      await api.getAgent(id),
      await api.listTasks({ type: id }),
      await api.expect(200, 'GET', '/api/status'),
    ];
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(KEY);
    const rows = await db.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM tasks t WHERE id = $1
       UNION ALL SELECT row_to_json(a)::text FROM agents a WHERE id = $2`,
      [task.id, id],
    );
    expect(rows).toHaveLength(2);
    for (const { row } of rows) expect(row).not.toContain(KEY);
    expect(hive.logs.text()).not.toContain(KEY);
  });

  it('a production replica without HIVE_SECRET_KEY refuses to start on a database with keys stored (real process)', async () => {
    await keyedAgent('openai', KEY);
    const replica = await spawnHive({ NODE_ENV: 'production', DATABASE_URL: world().db.url });
    try {
      // Exits during start-up; the deadline only turns a replica that starts anyway into a readable failure.
      await waitUntil(() => !isRunning(replica), {
        describe: 'the replica to refuse to start',
        timeoutMs: 20_000,
        state: () => replica.lines.slice(-3),
      });

      const exit = await replica.exited;
      expect(exit.code).toBeGreaterThan(0);
      // Its output may still be in the pipe when the exit is seen: read until the fatal line is in.
      const fatal = await pollUntil(
        () => replica.logs().filter((line) => level(line) === LEVEL.fatal),
        (lines) => lines.length > 0,
        { describe: 'the fatal line of the refused start' },
      );
      expect(fatal.map((line) => (line.err as { message?: unknown } | undefined)?.message)).toEqual([
        'HIVE_SECRET_KEY must be set: agents have API keys stored, encrypted under it',
      ]);
      const output = replica.lines.join('\n');
      expect(output).not.toContain(KEY);
    } finally {
      await stopHiveProcess(replica);
    }
  });
});

describe('agent API keys in production without HIVE_SECRET_KEY (in-process Hive, real PostgreSQL)', () => {
  it('refuses to store a key with 400 naming HIVE_SECRET_KEY, and registers agents without one', async () => {
    const fx = await startHiveFixture({ NODE_ENV: 'production' });
    try {
      const agent = { endpoint: 'http://127.0.0.1:9', model: 'llama3:8b', specialty: 'prod', kind: 'openai' };
      const refused = await fx.api.request('POST', '/api/agents', { id: 'with-key', ...agent, api_key: KEY });

      expect(refused.status).toBe(400);
      expect(messages(refused.body).join()).toContain('HIVE_SECRET_KEY is not set');
      expect(JSON.stringify(refused.body)).not.toContain(KEY);
      await expect(fx.api.request('GET', '/api/agents/with-key')).resolves.toMatchObject({ status: 404 });
      await expect(fx.api.request('POST', '/api/agents', { id: 'no-key', ...agent })).resolves.toMatchObject({
        status: 201,
      });
      expect(fx.hive.logs.text()).not.toContain(KEY);
    } finally {
      await fx.close();
    }
  });
});
