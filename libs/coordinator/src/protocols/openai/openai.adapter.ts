import type { ProbeReport } from '@hive/database';
import { AgentCallError } from '../../client/agent-call-error.js';
import type { ChunkListener, TaskResult } from '../../operations/operation-types.js';
import { isRecord, parseObject } from '../wire-json.js';
import type { AgentHttp } from '../agent-http.service.js';
import type { AgentCall, AgentTarget, ProtocolAdapter } from '../protocol-adapter.js';
import { embeddingsResult, OpenAiAnswer } from './openai-answers.js';
import { openAiFailure } from './openai-errors.js';
import { openAiRequest } from './openai-requests.js';
import { SseReader } from './sse.js';

const ok = (status: number): boolean => status >= 200 && status < 300;

/**
 * The OpenAI protocol (docs: shared reference openai-api.md), as vLLM, llama.cpp's server, LM Studio, TGI, SGLang and
 * Ollama's /v1 speak it: /v1/chat/completions (generate runs as a chat), /v1/embeddings, /v1/models. It tells no
 * loaded models: Hive knows those it sent there recently.
 */
export class OpenAiAdapter implements ProtocolAdapter {
  constructor(private readonly http: AgentHttp) {}

  async probe(agent: AgentTarget, signal: AbortSignal): Promise<ProbeReport> {
    const res = await this.http.send(agent, '/v1/models', { method: 'GET', signal });
    if (res.status !== 200) throw openAiFailure(res.status, res.body, res.headers);
    const answer = parseObject(res.body, 'the answer to /v1/models');
    if (!Array.isArray(answer.data)) throw new AgentCallError('malformed', 'the answer to /v1/models lacks "data"');
    const models = answer.data.filter(isRecord).flatMap((m) => (typeof m.id === 'string' ? [m.id] : []));
    return { models };
  }

  async run(agent: AgentTarget, call: AgentCall, signal: AbortSignal, onChunk?: ChunkListener): Promise<TaskResult> {
    const started = performance.now();
    const stream = onChunk !== undefined && call.operation !== 'embed';
    const { path, body } = openAiRequest(call, stream);
    if (!stream) {
      const res = await this.http.send(agent, path, { method: 'POST', body, signal });
      if (!ok(res.status)) throw openAiFailure(res.status, res.body, res.headers);
      if (call.operation === 'embed') return embeddingsResult(res.body, call, started);
      const answer = new OpenAiAnswer(call, started);
      answer.addCompletion(parseObject(res.body));
      return answer.result();
    }
    const lines = await this.http.stream(agent, path, { method: 'POST', body, signal }, openAiFailure);
    const answer = new OpenAiAnswer(call, started, onChunk);
    const events = new SseReader();
    let open = true;
    for await (const line of lines) {
      const data = events.line(line);
      if (data !== undefined) open = answer.addEvent(data);
      if (!open) break;
    }
    const last = events.flush();
    if (open && last !== undefined) answer.addEvent(last);
    return answer.result();
  }
}
