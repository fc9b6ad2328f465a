import type { TaskResult, ToolCall } from '@hive/coordinator';
import type { AnswerContext, AnswerFormat } from '../answer-format.js';
import { StreamedAnswer } from '../streamed-answer.js';

const NDJSON = 'application/x-ndjson';
const line = (data: unknown): string => `${JSON.stringify(data)}\n`;

/** Ollama's tool call: the function and its arguments as an object. */
const ollamaToolCall = (call: ToolCall) => ({
  function: { name: call.function.name, arguments: call.function.arguments },
});

/** The statistics of Ollama's last line, as far as Hive knows them. */
function stats(result: TaskResult): Record<string, unknown> {
  return {
    done: true,
    done_reason: result.done_reason ?? 'stop',
    total_duration: result.total_duration ?? 0,
    load_duration: 0,
    prompt_eval_count: result.prompt_eval_count ?? 0,
    eval_count: result.eval_count ?? 0,
    eval_duration: result.eval_duration ?? 0,
  };
}

/** Ollama ends a failed stream with a line of its own. */
const errorLine = (message: string): string => line({ error: message });

/** /api/chat: NDJSON message pieces and a last line with the statistics, or that last line alone. */
export function chatFormat({ model }: AnswerContext): AnswerFormat {
  const sent = new StreamedAnswer();
  const head = () => ({ model, created_at: new Date().toISOString() });
  const messageOf = (content: string, calls: readonly ToolCall[]) => ({
    role: 'assistant',
    content,
    ...(calls.length > 0 ? { tool_calls: calls.map(ollamaToolCall) } : {}),
  });
  return {
    streamType: NDJSON,
    piece(piece) {
      if ((piece.content ?? '') === '' && (piece.tool_calls?.length ?? 0) === 0) return '';
      sent.sent(piece);
      return line({ ...head(), message: messageOf(piece.content ?? '', piece.tool_calls ?? []), done: false });
    },
    finish(result) {
      const rest = sent.rest(result);
      return line({ ...head(), message: messageOf(rest.content, rest.toolCalls), ...stats(result) });
    },
    error: errorLine,
    whole: (result) => ({
      ...head(),
      message: messageOf(result.message?.content ?? '', result.message?.tool_calls ?? []),
      ...stats(result),
    }),
  };
}

/** /api/generate: NDJSON response pieces and a last line with the statistics, or that last line alone. */
export function generateFormat({ model }: AnswerContext): AnswerFormat {
  const sent = new StreamedAnswer();
  const head = () => ({ model, created_at: new Date().toISOString() });
  return {
    streamType: NDJSON,
    piece(piece) {
      const text = sent.sent({ content: piece.content ?? '' }).content ?? '';
      return text === '' ? '' : line({ ...head(), response: text, done: false });
    },
    finish: (result) => line({ ...head(), response: sent.rest(result).content, ...stats(result) }),
    error: errorLine,
    whole: (result) => ({ ...head(), response: result.response ?? '', ...stats(result) }),
  };
}

/** /api/embed: the vectors in the order of the inputs. */
export function embedFormat({ model }: AnswerContext): AnswerFormat {
  return {
    streamType: 'application/json',
    piece: () => '',
    finish: () => '',
    error: () => '',
    whole: (result) => ({
      model,
      embeddings: result.embeddings ?? [],
      total_duration: result.total_duration ?? 0,
      load_duration: 0,
      prompt_eval_count: result.prompt_eval_count ?? 0,
    }),
  };
}
