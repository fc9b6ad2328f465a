import { AgentCallError } from '../../client/agent-call-error.js';
import type { AgentCall } from '../protocol-adapter.js';
import type { ChunkListener, TaskResult, ToolCall } from '../../operations/operation-types.js';
import { count, isRecord, parseObject, vectors, type JsonRecord } from '../wire-json.js';

/** Ollama's tool calls in Hive's shape: arguments as they are (an object), an id made when none was given. */
function toolCalls(value: unknown, offset: number): ToolCall[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((call, i) => {
    const fn = isRecord(call.function) ? call.function : {};
    const args = fn.arguments;
    return {
      id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${offset + i}`,
      type: 'function',
      function: {
        name: typeof fn.name === 'string' ? fn.name : '',
        arguments: isRecord(args) ? args : typeof args === 'string' ? args : {},
      },
    };
  });
}

/** The figures every Ollama answer ends with. */
function stats(
  answer: JsonRecord,
): Pick<TaskResult, 'prompt_eval_count' | 'eval_count' | 'total_duration' | 'eval_duration'> {
  const total = count(answer.total_duration);
  const evalDuration = count(answer.eval_duration);
  return {
    prompt_eval_count: count(answer.prompt_eval_count),
    eval_count: count(answer.eval_count),
    ...(total === null ? {} : { total_duration: total }),
    ...(evalDuration === null ? {} : { eval_duration: evalDuration }),
  };
}

/**
 * Builds a generate or chat result from Ollama's answer: one object (stream: false), or NDJSON lines whose pieces are
 * added up and handed to `onChunk` as they come. The last object (done: true) carries the figures; an `error`
 * line is the server failing mid-answer.
 */
export class OllamaAnswer {
  private text = '';
  private readonly calls: ToolCall[] = [];
  private final: JsonRecord | undefined;

  constructor(
    private readonly call: AgentCall,
    private readonly onChunk?: ChunkListener,
  ) {}

  /** One object of the answer (the whole of a non-streamed one). */
  add(object: JsonRecord): void {
    if (typeof object.error === 'string') {
      throw new AgentCallError('server_error', `the agent failed mid-answer: ${object.error}`);
    }
    const piece = this.call.operation === 'chat' ? (isRecord(object.message) ? object.message : undefined) : object;
    const content = this.call.operation === 'chat' ? piece?.content : object.response;
    if (typeof content !== 'string' || typeof object.done !== 'boolean') {
      const field = this.call.operation === 'chat' ? '"message"' : '"response"';
      throw new AgentCallError('malformed', `agent answer lacks ${field} or "done"`);
    }
    const calls = toolCalls(piece?.tool_calls, this.calls.length);
    this.text += content;
    this.calls.push(...calls);
    if (this.onChunk !== undefined && (content !== '' || calls.length > 0)) {
      this.onChunk({ ...(content === '' ? {} : { content }), ...(calls.length > 0 ? { tool_calls: calls } : {}) });
    }
    if (object.done) this.final = object;
  }

  addLine(line: string): void {
    if (line.trim() !== '') this.add(parseObject(line, 'a line of the agent answer'));
  }

  result(): TaskResult {
    const final = this.final;
    if (final === undefined) throw new AgentCallError('malformed', 'the agent answer ended before "done": true');
    const model = typeof final.model === 'string' ? final.model : this.call.model;
    const doneReason = typeof final.done_reason === 'string' ? final.done_reason : null;
    if (this.call.operation !== 'chat') return { response: this.text, model, done_reason: doneReason, ...stats(final) };
    return {
      message: { role: 'assistant', content: this.text, ...(this.calls.length > 0 ? { tool_calls: this.calls } : {}) },
      model,
      done_reason: this.calls.length > 0 && doneReason === 'stop' ? 'tool_calls' : doneReason,
      ...stats(final),
    };
  }
}

/** An /api/embed answer: one vector per input. */
export function embedResult(body: string, call: AgentCall & { operation: 'embed' }): TaskResult {
  const answer = parseObject(body);
  const inputs = typeof call.input.input === 'string' ? 1 : call.input.input.length;
  const total = count(answer.total_duration);
  return {
    embeddings: vectors(answer.embeddings, inputs),
    model: typeof answer.model === 'string' ? answer.model : call.model,
    done_reason: null,
    prompt_eval_count: count(answer.prompt_eval_count),
    eval_count: null,
    ...(total === null ? {} : { total_duration: total }),
  };
}
