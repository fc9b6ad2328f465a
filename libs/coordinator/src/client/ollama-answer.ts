import { AgentCallError } from './agent-call-error.js';

/** What Hive keeps of an Ollama answer as the task's result. */
export interface OllamaResult {
  response: string;
  model: string;
  done_reason: string | null;
  prompt_eval_count: number | null;
  eval_count: number | null;
  total_duration: number | null;
  eval_duration: number | null;
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Parses a non-streaming /api/generate body; anything that is not a finished Ollama answer is `malformed`. */
export function parseGenerateAnswer(body: string): OllamaResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new AgentCallError('malformed', `agent answered with invalid JSON: ${body.slice(0, 200)}`);
  }
  if (value === null || typeof value !== 'object')
    throw new AgentCallError('malformed', 'agent answer is not an object');
  const answer = value as Record<string, unknown>;
  if (typeof answer.response !== 'string' || answer.done !== true) {
    throw new AgentCallError('malformed', 'agent answer lacks "response" or "done": true');
  }
  return {
    response: answer.response,
    model: typeof answer.model === 'string' ? answer.model : '',
    done_reason: typeof answer.done_reason === 'string' ? answer.done_reason : null,
    prompt_eval_count: count(answer.prompt_eval_count),
    eval_count: count(answer.eval_count),
    total_duration: count(answer.total_duration),
    eval_duration: count(answer.eval_duration),
  };
}

/** Ollama's error text from `{"error": "..."}`, else the start of the body. */
export function errorText(status: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return `HTTP ${status}: ${(parsed as { error: string }).error}`;
    }
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${status}: ${body.slice(0, 200) || 'no body'}`;
}
