import type { AnswerChunk, TaskResult, ToolCall } from '@hive/coordinator';
import type { AnswerContext, AnswerFormat } from '../answer-format.js';
import { StreamedAnswer } from '../streamed-answer.js';

const DONE = 'data: [DONE]\n\n';
const event = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/** OpenAI's finish_reason: tool_calls when the model called tools, length when cut, else stop. */
function finishReason(result: TaskResult): string {
  if ((result.message?.tool_calls?.length ?? 0) > 0) return 'tool_calls';
  return result.done_reason === 'length' || result.done_reason === 'content_filter' ? result.done_reason : 'stop';
}

function usage(result: TaskResult): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = result.prompt_eval_count ?? 0;
  const completion = result.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** OpenAI's tool call: arguments as JSON text. */
const openAiToolCall = (call: ToolCall, index?: number) => ({
  ...(index === undefined ? {} : { index }),
  id: call.id,
  type: 'function' as const,
  function: {
    name: call.function.name,
    arguments:
      typeof call.function.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function.arguments),
  },
});

/** An OpenAI error event ends a stream that failed after its first piece; the client raises it as an APIError. */
const errorEvent = (message: string): string =>
  event({ error: { message, type: 'server_error', param: null, code: 'agent_error' } });

/** /v1/chat/completions: a chat.completion, or chat.completion.chunk events ending in [DONE]. */
export function chatCompletionFormat(includeUsage: boolean) {
  return ({ start, model, created }: AnswerContext): AnswerFormat => {
    const id = `chatcmpl-${start.taskId}`;
    const sent = new StreamedAnswer();
    let first = true;
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      event({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
      });
    const delta = (piece: AnswerChunk, firstCall: number): Record<string, unknown> => {
      const fields: Record<string, unknown> = first ? { role: 'assistant' } : {};
      first = false;
      if (piece.content !== undefined && piece.content !== '') fields.content = piece.content;
      if (piece.tool_calls !== undefined && piece.tool_calls.length > 0) {
        fields.tool_calls = piece.tool_calls.map((call, i) => openAiToolCall(call, firstCall + i));
      }
      return fields;
    };
    return {
      streamType: 'text/event-stream; charset=utf-8',
      piece(piece) {
        if ((piece.content ?? '') === '' && (piece.tool_calls?.length ?? 0) === 0) return '';
        const firstCall = sent.toolCallsSent;
        return chunk(delta(sent.sent(piece), firstCall), null);
      },
      finish(result) {
        const rest = sent.rest(result);
        const tail =
          rest.content !== '' || rest.toolCalls.length > 0 || first
            ? chunk(delta({ content: rest.content, tool_calls: rest.toolCalls }, sent.toolCallsSent), null)
            : '';
        const last = chunk({}, finishReason(result));
        const usageEvent = includeUsage
          ? event({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usage(result) })
          : '';
        return tail + last + usageEvent + DONE;
      },
      error: errorEvent,
      whole(result) {
        const calls = result.message?.tool_calls ?? [];
        return {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content:
                  calls.length > 0 && (result.message?.content ?? '') === '' ? null : (result.message?.content ?? ''),
                refusal: null,
                ...(calls.length > 0 ? { tool_calls: calls.map((call) => openAiToolCall(call)) } : {}),
              },
              logprobs: null,
              finish_reason: finishReason(result),
            },
          ],
          usage: usage(result),
        };
      },
    };
  };
}

/** /v1/completions: a text_completion, or its chunks ending in [DONE]. */
export function completionFormat(includeUsage: boolean) {
  return ({ start, model, created }: AnswerContext): AnswerFormat => {
    const id = `cmpl-${start.taskId}`;
    const sent = new StreamedAnswer();
    const body = (text: string, finish: string | null) => ({
      id,
      object: 'text_completion',
      created,
      model,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    });
    return {
      streamType: 'text/event-stream; charset=utf-8',
      piece(piece) {
        const text = sent.sent({ content: piece.content ?? '' }).content ?? '';
        return text === '' ? '' : event(body(text, null));
      },
      finish(result) {
        const rest = sent.rest(result).content;
        const usageEvent = includeUsage ? event({ ...body('', null), choices: [], usage: usage(result) }) : '';
        return event(body(rest, finishReason(result))) + usageEvent + DONE;
      },
      error: errorEvent,
      whole: (result) => ({ ...body(result.response ?? '', finishReason(result)), usage: usage(result) }),
    };
  };
}

/** A vector as OpenAI's base64 encoding gives it: little-endian float32. */
function base64Vector(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/** /v1/embeddings: a list of embeddings, in the order of the inputs. */
export function embeddingFormat(base64: boolean) {
  return ({ model }: AnswerContext): AnswerFormat => ({
    streamType: 'application/json',
    piece: () => '',
    finish: () => '',
    error: () => '',
    whole(result) {
      const tokens = result.prompt_eval_count ?? 0;
      return {
        object: 'list',
        data: (result.embeddings ?? []).map((vector, index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? base64Vector(vector) : vector,
        })),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  });
}
