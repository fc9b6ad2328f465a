import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startOllamaAgent } from './support/ollama-agent.js';
import type { OllamaAgent } from './support/ollama-agent.js';
import { waitUntil } from './support/poll.js';

/** jest's asymmetric matchers are typed `any`; as `unknown` they go into expected objects without unsafe assignments. */
const anyString = expect.any(String) as unknown;

const user = (content: string) => [{ role: 'user' as const, content }];
const names = async (res: Response, list: 'models' | 'data'): Promise<string[]> => {
  const body = (await res.json()) as Record<string, { name?: string; id?: string }[]>;
  return (body[list] ?? []).map((m) => m.name ?? m.id ?? '');
};

describe('test agent controls: api key, served models, listing probes, reset (real HTTP)', () => {
  let agent: OllamaAgent;

  const send = (path: string, body?: unknown, authorization?: string): Promise<Response> => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (authorization !== undefined) headers.Authorization = authorization;
    const init = body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) };
    return fetch(`${agent.url}${path}`, init);
  };
  const chatBody = (model = 'llama3:8b') => ({ model, messages: user('hi') });

  afterEach(async () => {
    await agent.close();
  });

  describe('api key, openai protocol', () => {
    const invalidKey = {
      error: { message: anyString, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    };

    beforeEach(async () => {
      agent = await startOllamaAgent({ protocol: 'openai', apiKey: 'sk-test' });
    });

    it('answers 401 invalid_api_key without the key or with another, and logs what was sent', async () => {
      const missing = await send('/v1/chat/completions', chatBody());
      expect(missing.status).toBe(401);
      await expect(missing.json()).resolves.toEqual(invalidKey);

      const wrong = await send('/v1/chat/completions', chatBody(), 'Bearer sk-other');
      expect(wrong.status).toBe(401);
      await expect(wrong.json()).resolves.toEqual(invalidKey);

      const right = await send('/v1/chat/completions', chatBody(), 'Bearer sk-test');
      expect(right.status).toBe(200);
      await right.arrayBuffer();

      expect(agent.requests.map((r) => r.authorization)).toEqual([undefined, 'Bearer sk-other', 'Bearer sk-test']);
    });

    it('guards /v1/models and /v1/embeddings too, but not /health', async () => {
      expect((await send('/v1/models')).status).toBe(401);
      expect((await send('/v1/models', undefined, 'Bearer sk-test')).status).toBe(200);
      expect((await send('/v1/embeddings', { model: 'llama3:8b', input: 'x' })).status).toBe(401);
      expect((await send('/health')).status).toBe(200);
      expect(agent.modelsCalls).toBe(2);
    });

    it("fails OpenAI's client with an AuthenticationError for a wrong key, and serves the right one", async () => {
      const wrong = new OpenAI({ baseURL: `${agent.url}/v1`, apiKey: 'sk-other', maxRetries: 0 });
      await expect(wrong.chat.completions.create({ model: 'llama3:8b', messages: user('hi') })).rejects.toMatchObject({
        status: 401,
        code: 'invalid_api_key',
      });
      const right = new OpenAI({ baseURL: `${agent.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
      const answer = await right.chat.completions.create({ model: 'llama3:8b', messages: user('hi') });
      expect(answer.choices[0]?.message.content).toBe('echo: hi');
    });

    it('changes or drops the key with setApiKey, and reset() restores it', async () => {
      agent.setApiKey('sk-new');
      expect((await send('/v1/models', undefined, 'Bearer sk-test')).status).toBe(401);
      expect((await send('/v1/models', undefined, 'Bearer sk-new')).status).toBe(200);
      agent.setApiKey();
      expect((await send('/v1/models')).status).toBe(200);
      agent.reset();
      expect((await send('/v1/models')).status).toBe(401);
      expect((await send('/v1/models', undefined, 'Bearer sk-test')).status).toBe(200);
    });
  });

  describe('api key, ollama protocol', () => {
    beforeEach(async () => {
      agent = await startOllamaAgent({ apiKey: 'secret' });
    });

    it('answers 401 {"error":"unauthorized"} on /api routes without the key, an OpenAI body on /v1', async () => {
      for (const [path, body] of [
        ['/api/generate', { model: 'llama3:8b', prompt: 'hi', stream: false }],
        ['/api/chat', chatBody()],
        ['/api/tags', undefined],
        ['/api/ps', undefined],
        ['/api/version', undefined],
      ] as const) {
        const res = await send(path, body);
        expect(res.status).toBe(401);
        await expect(res.json()).resolves.toEqual({ error: 'unauthorized' });
      }
      const openAi = await send('/v1/chat/completions', chatBody());
      expect(openAi.status).toBe(401);
      await expect(openAi.json()).resolves.toMatchObject({ error: { code: 'invalid_api_key' } });
      // The root is a liveness page, open to all.
      await expect((await send('/')).text()).resolves.toBe('Ollama is running');
    });

    it("serves Ollama's client when it sends the key", async () => {
      const ollama = new Ollama({ host: agent.url, headers: { Authorization: 'Bearer secret' } });
      const answer = await ollama.chat({ model: 'llama3:8b', messages: user('hi') });
      expect(answer.message.content).toBe('echo: hi');
      expect(agent.requests[0]?.authorization).toBe('Bearer secret');
      await expect(new Ollama({ host: agent.url }).list()).rejects.toMatchObject({ status_code: 401 });
    });
  });

  describe('served models', () => {
    beforeEach(async () => {
      agent = await startOllamaAgent({ models: ['llama3:8b', 'qwen2.5:14b'] });
    });

    it('setModels changes what is listed and served, and unloads a dropped model', async () => {
      await (await send('/api/chat', { ...chatBody('qwen2.5:14b'), stream: false })).arrayBuffer();
      expect(agent.loadedModels).toEqual(['qwen2.5:14b']);

      agent.setModels(['llama3:8b', 'mistral:7b']);
      await expect(names(await send('/api/tags'), 'models')).resolves.toEqual(['llama3:8b', 'mistral:7b']);
      await expect(names(await send('/v1/models'), 'data')).resolves.toEqual(['llama3:8b', 'mistral:7b']);
      expect(agent.loadedModels).toEqual([]);
      await expect(names(await send('/api/ps'), 'models')).resolves.toEqual([]);

      const dropped = await send('/api/chat', { ...chatBody('qwen2.5:14b'), stream: false });
      expect(dropped.status).toBe(404);
      await expect(dropped.json()).resolves.toEqual({ error: "model 'qwen2.5:14b' not found" });
      const gained = await send('/v1/chat/completions', chatBody('mistral:7b'));
      expect(gained.status).toBe(200);
      await gained.arrayBuffer();

      agent.reset();
      await expect(names(await send('/api/tags'), 'models')).resolves.toEqual(['llama3:8b', 'qwen2.5:14b']);
    });
  });

  describe('listing probes', () => {
    beforeEach(async () => {
      agent = await startOllamaAgent();
    });

    it('the tags behaviour applies to /api/tags, /api/ps and /v1/models, each in its protocol', async () => {
      agent.setTagsBehavior('error');
      for (const path of ['/api/tags', '/api/ps']) {
        const res = await send(path);
        expect(res.status).toBe(500);
        await expect(res.json()).resolves.toEqual({ error: 'internal server error' });
      }
      const models = await send('/v1/models');
      expect(models.status).toBe(500);
      await expect(models.json()).resolves.toEqual({
        error: { message: 'internal server error', type: 'server_error', param: null, code: null },
      });

      agent.setTagsBehavior('down');
      for (const path of ['/api/tags', '/api/ps', '/v1/models']) {
        await expect(send(path)).rejects.toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNRESET' } });
      }

      agent.setTagsBehavior('hang');
      const controller = new AbortController();
      const pending = fetch(`${agent.url}/v1/models`, { signal: controller.signal });
      // The count is taken when the request arrives, before the (never sent) answer.
      await waitUntil(() => agent.modelsCalls === 3, {
        describe: '/v1/models to be called',
        state: () => agent.modelsCalls,
      });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

      expect([agent.tagsCalls, agent.psCalls, agent.modelsCalls]).toEqual([2, 2, 3]);
      expect(agent.requests).toHaveLength(0); // probes are not inference requests
    });

    it('reset() zeroes every counter and empties the memory', async () => {
      await (await send('/api/generate', { model: 'llama3:8b', prompt: 'hi', stream: false })).arrayBuffer();
      for (const path of ['/api/tags', '/api/ps', '/v1/models']) await (await send(path)).arrayBuffer();
      expect([agent.tagsCalls, agent.psCalls, agent.modelsCalls, agent.loads]).toEqual([1, 1, 1, 1]);
      expect(agent.loadedModels).toEqual(['llama3:8b']);

      agent.reset();
      expect([agent.tagsCalls, agent.psCalls, agent.modelsCalls, agent.loads]).toEqual([0, 0, 0, 0]);
      expect(agent.loadedModels).toEqual([]);
      expect(agent.requests).toHaveLength(0);
    });
  });
});
