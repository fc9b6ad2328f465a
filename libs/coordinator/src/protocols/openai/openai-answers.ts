import { AgentCallError } from '../../client/agent-call-error.js';
import { parseArguments } from '../../operations/input-schemas.js';
import type { ChunkListener, TaskResult, ToolCall } from '../../operations/operation-types.js';
import { count, isRecord, nanosecondsSince, parseObject, vectors, type JsonRecord } from '../wire-json.js';
import type { AgentCall } from '../protocol-adapter.js';

/** OpenAI's finish_reason as Hive's done_reason (its legacy function_call is a tool call). */
const doneReason = (finish: unknown): string | null =>
  finish === 'function_call' ? 'tool_calls' : typeof finish === 'string' ? finish : null;

/** A tool call being streamed: its id, name and argument text arrive in pieces, by index. */
interface CallInProgress {
  id: string;
  name: string;
  args: string;
}

const toToolCall = (call: CallInProgress): ToolCall => ({
  id: call.id,
  type: 'function',
  function: { name: call.name, arguments: parseArguments(call.args) },
});

/**
 * Builds a result from a chat completion: one object (non-streamed) or its chunks, whose pieces are added up and
 * handed to `onChunk` as they come. A generate call ran as a chat; its text becomes `response`.
 */
export class OpenAiAnswer {
  private text = '';
  private readonly calls: CallInProgress[] = [];
  private finish: string | null = null;
  private usage: JsonRecord | undefined;
  private model: string | undefined;
  private chunks = 0;
  /** A streamed answer said it was complete: [DONE], or a finish_reason. */
  private ended = false;
  private streamed = false;

  constructor(
    private readonly call: AgentCall,
    private readonly started: number,
    private readonly onChunk?: ChunkListener,
  ) {}

  /** A whole (non-streamed) chat completion. */
  addCompletion(answer: JsonRecord): void {
    const choice = Array.isArray(answer.choices) && isRecord(answer.choices[0]) ? answer.choices[0] : undefined;
    const message = choice !== undefined && isRecord(choice.message) ? choice.message : undefined;
    if (message === undefined) throw new AgentCallError('malformed', 'agent answer lacks choices[0].message');
    if (typeof message.content === 'string') this.text = message.content;
    for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : []) {
      const fn = isRecord(call.function) ? call.function : {};
      this.calls.push({
        id: typeof call.id === 'string' ? call.id : `call_${this.calls.length}`,
        name: typeof fn.name === 'string' ? fn.name : '',
        args: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
      });
    }
    this.finish = doneReason(choice?.finish_reason);
    this.noteModelAndUsage(answer);
    this.chunks = 1;
  }

  /** The data of one server-sent event of a streamed completion; false once it said [DONE]. */
  addEvent(data: string): boolean {
    if (data.trim() === '[DONE]') {
      this.ended = true;
      return false;
    }
    const chunk = parseObject(data, 'an event of the agent answer');
    if (chunk.error !== undefined) {
      const error = isRecord(chunk.error) ? chunk.error.message : chunk.error;
      throw new AgentCallError('server_error', `the agent failed mid-answer: ${String(error)}`);
    }
    this.chunks += 1;
    this.streamed = true;
    this.noteModelAndUsage(chunk);
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (choice === undefined) return true; // the usage chunk
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const content = typeof delta.content === 'string' ? delta.content : '';
    this.text += content;
    const finished: ToolCall[] = [];
    for (const piece of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
      const index = typeof piece.index === 'number' ? piece.index : this.calls.length;
      const fn = isRecord(piece.function) ? piece.function : {};
      const call = (this.calls[index] ??= { id: `call_${index}`, name: '', args: '' });
      if (typeof piece.id === 'string') call.id = piece.id;
      if (typeof fn.name === 'string') call.name += fn.name;
      if (typeof fn.arguments === 'string') call.args += fn.arguments;
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      this.ended = true;
      this.finish = doneReason(choice.finish_reason);
      finished.push(...this.calls.map(toToolCall));
    }
    // Tool calls are handed over whole, once the model finished them: their argument pieces mean nothing alone.
    if (this.onChunk !== undefined && (content !== '' || finished.length > 0)) {
      this.onChunk({
        ...(content === '' ? {} : { content }),
        ...(finished.length > 0 ? { tool_calls: finished } : {}),
      });
    }
    return true;
  }

  result(): TaskResult {
    if (this.chunks === 0) throw new AgentCallError('malformed', 'the agent answer ended before any of it came');
    // A stream that stops without saying it is complete was cut short, however cleanly the connection closed.
    if (this.streamed && !this.ended)
      throw new AgentCallError('malformed', 'the agent answer ended before it finished');
    const usage = this.usage ?? {};
    const common = {
      model: this.model ?? this.call.model,
      prompt_eval_count: count(usage.prompt_tokens),
      eval_count: count(usage.completion_tokens),
      total_duration: nanosecondsSince(this.started),
    };
    if (this.call.operation !== 'chat') return { response: this.text, done_reason: this.finish, ...common };
    const calls = this.calls.map(toToolCall);
    return {
      message: { role: 'assistant', content: this.text, ...(calls.length > 0 ? { tool_calls: calls } : {}) },
      done_reason: this.finish,
      ...common,
    };
  }

  private noteModelAndUsage(answer: JsonRecord): void {
    if (typeof answer.model === 'string' && answer.model !== '') this.model = answer.model;
    if (isRecord(answer.usage)) this.usage = answer.usage;
  }
}

/** A /v1/embeddings answer: the vectors in the order of the inputs. */
export function embeddingsResult(body: string, call: AgentCall & { operation: 'embed' }, started: number): TaskResult {
  const answer = parseObject(body);
  const inputs = typeof call.input.input === 'string' ? 1 : call.input.input.length;
  const data = Array.isArray(answer.data) ? answer.data.filter(isRecord) : [];
  const ordered = [...data].sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0)).map((d) => d.embedding);
  const usage = isRecord(answer.usage) ? answer.usage : {};
  return {
    embeddings: vectors(ordered, inputs),
    model: typeof answer.model === 'string' && answer.model !== '' ? answer.model : call.model,
    done_reason: null,
    prompt_eval_count: count(usage.prompt_tokens),
    eval_count: null,
    total_duration: nanosecondsSince(started),
  };
}
