import { loadConfig } from '@hive/config';
import { AgentCallError } from '../libs/coordinator/src/client/agent-call-error.js';
import type { AnswerChunk } from '../libs/coordinator/src/operations/operation-types.js';
import { AgentHttp } from '../libs/coordinator/src/protocols/agent-http.service.js';
import type { AgentCall, AgentTarget, ProtocolAdapter } from '../libs/coordinator/src/protocols/protocol-adapter.js';
import { createAdapters } from '../libs/coordinator/src/protocols/protocols.js';
import { startOllamaAgent, type AgentProtocol, type OllamaAgent } from './support/ollama-agent.js';

/**
 * The adapters' streamed calls (a chunk listener given) against real agent servers of both protocols: pieces in
 * order and as they come, the whole answer as the result, and the ways a stream breaks.
 */
describe.each<AgentProtocol>(['ollama', 'openai'])('%s adapter, streamed (real HTTP)', (protocol) => {
  const http = new AgentHttp(loadConfig({ NODE_ENV: 'test', HTTP_TIMEOUT_MS: '2000' }));
  const adapter = createAdapters(http).get(protocol) as ProtocolAdapter;
  let agent: OllamaAgent;
  let target: AgentTarget;

  beforeAll(async () => {
    agent = await startOllamaAgent({ protocol, models: ['llama3:8b'] });
    target = { id: `stream-${protocol}`, endpoint: agent.url, kind: protocol, max_concurrent: 2 };
  });
  afterEach(() => agent.reset());
  afterAll(async () => {
    await http.onApplicationShutdown();
    await agent.close();
  });

  const chat = (content: string): AgentCall => ({
    operation: 'chat',
    model: 'llama3:8b',
    input: { messages: [{ role: 'user', content }] },
  });

  /** Runs `call` streamed; the pieces it handed over, each with whether the agent was still answering then. */
  async function streamed(call: AgentCall) {
    const pieces: { chunk: AnswerChunk; agentAnswering: boolean }[] = [];
    const result = await adapter.run(target, call, AbortSignal.timeout(10_000), (chunk) =>
      pieces.push({ chunk, agentAnswering: agent.inFlight > 0 }),
    );
    return { result, pieces };
  }

  it('hands over each piece as it comes, in order, and answers the whole text with its counts', async () => {
    agent.setBehavior({ kind: 'ok', response: 'one two three four', chunkDelayMs: 100 });
    const { result, pieces } = await streamed(chat('count'));

    expect(pieces.map((p) => p.chunk.content ?? '').join('')).toBe('one two three four');
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    // The first piece was handed over while the agent was still writing the rest (it pauses between pieces): pieces
    // are handed over as they come, not once the answer has ended.
    expect(pieces[0]?.agentAnswering).toBe(true);
    expect(result).toMatchObject({
      message: { role: 'assistant', content: 'one two three four' },
      done_reason: 'stop',
      eval_count: 4,
    });
    expect(agent.requests[0]?.stream).toBe(true);
  });

  it('streams a generate as its protocol does, its result the text', async () => {
    const call: AgentCall = { operation: 'generate', model: 'llama3:8b', input: { prompt: 'say it' } };
    const { result, pieces } = await streamed(call);
    expect(pieces.map((p) => p.chunk.content ?? '').join('')).toBe('echo: say it');
    expect(result).toMatchObject({ response: 'echo: say it', done_reason: 'stop' });
  });

  it('hands over tool calls whole, and answers them in the result', async () => {
    agent.setBehavior({ kind: 'ok', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const { result, pieces } = await streamed(chat('weather?'));
    const handed = pieces.flatMap((p) => p.chunk.tool_calls ?? []);
    expect(handed.map((c) => c.function)).toEqual([{ name: 'get_weather', arguments: { city: 'Paris' } }]);
    expect(result.message?.tool_calls?.map((c) => c.function)).toEqual(handed.map((c) => c.function));
    expect(result.done_reason).toBe('tool_calls');
  });

  it('fails with a server error when the agent reports one mid-stream, after the pieces before it', async () => {
    agent.setBehavior({ kind: 'stream-error', afterChunks: 2, message: 'CUDA out of memory' });
    const pieces: AnswerChunk[] = [];
    const failure = await adapter
      .run(target, chat('a b c d e'), AbortSignal.timeout(10_000), (chunk) => pieces.push(chunk))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(AgentCallError);
    expect(failure).toMatchObject({
      kind: 'server_error',
      message: expect.stringContaining('CUDA out of memory') as unknown,
    });
    expect(pieces.length).toBe(2);
  });

  it('fails as a connection failure when the agent goes away mid-stream', async () => {
    agent.setBehavior({ kind: 'ok', response: 'a b c d e f', chunkDelayMs: 50 });
    agent.onRequest(() => setTimeout(() => void agent.close(), 80));
    const failure = await streamed(chat('go')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ kind: 'connection' });
    agent = await startOllamaAgent({ protocol, models: ['llama3:8b'] });
    target = { ...target, endpoint: agent.url };
  });
});
