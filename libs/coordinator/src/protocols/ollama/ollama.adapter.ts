import type { LoadedModel, ProbeReport } from '@hive/database';
import { AgentCallError } from '../../client/agent-call-error.js';
import type { ChunkListener, TaskResult } from '../../operations/operation-types.js';
import { isRecord, parseObject } from '../wire-json.js';
import type { AgentHttp } from '../agent-http.service.js';
import type { AgentCall, AgentTarget, ProtocolAdapter } from '../protocol-adapter.js';
import { embedResult, OllamaAnswer } from './ollama-answers.js';
import { ollamaFailure } from './ollama-errors.js';
import { ollamaRequest } from './ollama-requests.js';

const ok = (status: number): boolean => status >= 200 && status < 300;

/** The names of `{"models": [{"name": …}]}` (/api/tags, /api/ps); a body of another shape is malformed. */
function modelEntries(body: string, path: string): Record<string, unknown>[] {
  const answer = parseObject(body, `the answer to ${path}`);
  if (!Array.isArray(answer.models)) throw new AgentCallError('malformed', `the answer to ${path} lacks "models"`);
  return answer.models.filter(isRecord).filter((m) => typeof (m.name ?? m.model) === 'string');
}

const nameOf = (entry: Record<string, unknown>): string => String(entry.name ?? entry.model);

/** Ollama's native API (docs: shared reference ollama-api.md): /api/generate, /api/chat, /api/embed. */
export class OllamaAdapter implements ProtocolAdapter {
  constructor(private readonly http: AgentHttp) {}

  /** GET /api/tags (the models it serves), then GET /api/ps (those loaded now; unknown if that fails). */
  async probe(agent: AgentTarget, signal: AbortSignal): Promise<ProbeReport> {
    const tags = await this.http.send(agent, '/api/tags', { method: 'GET', signal });
    if (tags.status !== 200) throw ollamaFailure(tags.status, tags.body, tags.headers);
    const models = modelEntries(tags.body, '/api/tags').map(nameOf);
    return { models, ...(await this.loaded(agent, signal)) };
  }

  async run(agent: AgentTarget, call: AgentCall, signal: AbortSignal, onChunk?: ChunkListener): Promise<TaskResult> {
    const stream = onChunk !== undefined && call.operation !== 'embed';
    const { path, body } = ollamaRequest(call, stream);
    if (!stream) {
      const res = await this.http.send(agent, path, { method: 'POST', body, signal });
      if (!ok(res.status)) throw ollamaFailure(res.status, res.body, res.headers);
      if (call.operation === 'embed') return embedResult(res.body, call);
      const answer = new OllamaAnswer(call);
      answer.add(parseObject(res.body));
      return answer.result();
    }
    const lines = await this.http.stream(agent, path, { method: 'POST', body, signal }, ollamaFailure);
    const answer = new OllamaAnswer(call, onChunk);
    for await (const line of lines) answer.addLine(line);
    return answer.result();
  }

  private async loaded(agent: AgentTarget, signal: AbortSignal): Promise<{ loaded?: LoadedModel[] }> {
    try {
      const ps = await this.http.send(agent, '/api/ps', { method: 'GET', signal });
      if (ps.status !== 200) return {};
      const loaded = modelEntries(ps.body, '/api/ps').map((m) => ({
        name: nameOf(m),
        expires_at: typeof m.expires_at === 'string' ? m.expires_at : new Date().toISOString(),
      }));
      return { loaded };
    } catch (error) {
      // A transport failure is the agent's (the probe fails); an odd /api/ps answer only leaves loaded unknown.
      if (error instanceof AgentCallError && error.kind === 'malformed') return {};
      throw error;
    }
  }
}
