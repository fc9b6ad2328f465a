import { suiteFixture } from './support/hive-fixture.js';
import type { AgentProtocol } from './support/ollama-agent.js';
import { embedding } from './support/test-agent/embeddings.js';

/** The test agent counts words as tokens. */
const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

interface EmbedCase {
  kind: AgentProtocol;
  /** The model the agent lists. */
  served: string;
  /** The name the task gives it (an Ollama model may be named without its :latest tag). */
  asked: string;
  dimensions: number;
}

const CASES: EmbedCase[] = [
  { kind: 'ollama', served: 'nomic-embed-text:latest', asked: 'nomic-embed-text', dimensions: 16 },
  { kind: 'openai', served: 'text-embedding-3-small', asked: 'text-embedding-3-small', dimensions: 12 },
];

/** Embeddings on agents of both protocols: one vector per input, the agent's own numbers, its token count. */
describe('operations: embed on Ollama and OpenAI agents (in-process Hive, real PostgreSQL)', () => {
  const world = suiteFixture();
  let serial = 0;

  /** Runs an embed task on a fresh agent of the case's protocol; returns the task and what the agent received. */
  async function embed({ kind, served, asked, dimensions }: EmbedCase, input: string | string[]) {
    const { api, agents } = world();
    const agent = await agents.start({ protocol: kind, models: [served], embeddingDimensions: dimensions });
    const id = `${kind}-${++serial}`;
    await api.registerAgent({ id, kind, endpoint: agent.url, specialty: `embed-${id}`, model: served });
    const submitted = await api.submitTask({
      type: `embed-${id}`,
      model: asked,
      operation: 'embed',
      input: { input, keep_alive: '10m' },
    });
    const task = await api.waitForTask(submitted.id, (t) => t.status !== 'pending' && t.status !== 'in_progress');
    expect({ status: task.status, error: task.error, assigned_agent: task.assigned_agent }).toEqual({
      status: 'completed',
      error: null,
      assigned_agent: id,
    });
    expect(agent.requests).toHaveLength(1);
    return { task, request: agent.requests[0] };
  }

  describe.each(CASES)('$kind agent', (embedCase) => {
    const { kind, served, dimensions } = embedCase;

    it('embeds a single string: one vector of the model’s dimension, the very numbers the agent computed', async () => {
      const text = 'The quick brown fox';
      const { task, request } = await embed(embedCase, text);

      // Ollama's keep_alive goes to Ollama; OpenAI's API has no such field.
      const sent =
        kind === 'ollama'
          ? { path: '/api/embed', body: { model: served, input: text, keep_alive: '10m' } }
          : { path: '/v1/embeddings', body: { model: served, input: text, encoding_format: 'float' } };
      expect(request).toMatchObject({ operation: 'embed', ...sent });
      expect(request?.body).toEqual(sent.body);
      expect(task.result).toEqual({
        embeddings: [embedding(served, text, dimensions)],
        model: served,
        done_reason: null,
        prompt_eval_count: words(text),
        eval_count: null,
        total_duration: expect.any(Number) as unknown,
      });
      expect(task.result?.embeddings?.[0]).toHaveLength(dimensions);
    });

    it('embeds a list: one vector per input, in the order given, with the tokens of all of them', async () => {
      const texts = ['first text', 'a second, longer text', 'third'];
      const { task, request } = await embed(embedCase, texts);

      expect((request?.body as { input?: unknown }).input).toEqual(texts);
      const vectors = task.result?.embeddings ?? [];
      expect(vectors).toHaveLength(texts.length);
      for (const vector of vectors) expect(vector).toHaveLength(dimensions);
      expect(vectors).toEqual(texts.map((text) => embedding(served, text, dimensions)));
      expect(new Set(vectors.map((v) => v.join(','))).size).toBe(texts.length);
      expect(task.result?.prompt_eval_count).toBe(texts.reduce((sum, text) => sum + words(text), 0));
    });
  });

  it('embeds the context prompt when a task gives no input', async () => {
    const { api, agents } = world();
    const agent = await agents.start({ models: ['all-minilm:l6'], embeddingDimensions: 4 });
    await api.registerAgent({ id: 'ctx-embed', endpoint: agent.url, specialty: 'ctx-embed', model: 'all-minilm:l6' });
    const submitted = await api.submitTask({
      type: 'ctx-embed',
      operation: 'embed',
      context: { prompt: 'hello world' },
    });

    const task = await api.waitForTask(submitted.id, 'completed');
    expect(agent.requests[0]?.body).toEqual({ model: 'all-minilm:l6', input: 'hello world' });
    expect(task.result?.embeddings).toEqual([embedding('all-minilm:l6', 'hello world', 4)]);
  });
});
