import type { ChatMessage, ModelOptions, OutputFormat, ToolCall } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { defined } from '../wire-json.js';

export interface OpenAiRequest {
  path: '/v1/chat/completions' | '/v1/embeddings';
  body: Record<string, unknown>;
}

/** The media type of a base64 image, from its first bytes (PNG, JPEG, GIF, WebP); PNG when unknown. */
export function imageType(base64: string): string {
  if (base64.startsWith('/9j/')) return 'image/jpeg';
  if (base64.startsWith('R0lGOD')) return 'image/gif';
  if (base64.startsWith('UklGR')) return 'image/webp';
  return 'image/png';
}

const openAiToolCall = ({ id, function: fn }: ToolCall) => ({
  id,
  type: 'function',
  function: {
    name: fn.name,
    arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments),
  },
});

/**
 * Messages as OpenAI takes them: images as image_url parts (data: URLs), tool-call arguments as JSON text, and a
 * tool's answer linked to the call it answers by id (found from the tool's name, Ollama's link, when only that was
 * given: the earliest call of that name not yet answered).
 */
export function openAiMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  const unanswered: ToolCall[] = [];
  return messages.map((m, index) => {
    unanswered.push(...(m.tool_calls ?? []));
    let toolCallId = m.tool_call_id;
    if (m.role === 'tool') {
      const at = unanswered.findIndex((c) =>
        toolCallId !== undefined ? c.id === toolCallId : c.function.name === m.tool_name,
      );
      if (toolCallId === undefined) toolCallId = at === -1 ? `call_${index}` : unanswered[at]?.id;
      if (at !== -1) unanswered.splice(at, 1);
    }
    const images = m.images ?? [];
    const content =
      images.length > 0
        ? [
            ...(m.content === '' ? [] : [{ type: 'text', text: m.content }]),
            ...images.map((b64) => ({ type: 'image_url', image_url: { url: `data:${imageType(b64)};base64,${b64}` } })),
          ]
        : m.content === '' && m.tool_calls !== undefined
          ? null
          : m.content;
    return defined({
      role: m.role,
      content,
      tool_calls: m.tool_calls?.map(openAiToolCall),
      tool_call_id: m.role === 'tool' ? toolCallId : undefined,
    });
  });
}

/** Ollama's `format` as OpenAI's `response_format`. */
export function responseFormat(format: OutputFormat | undefined): Record<string, unknown> | undefined {
  if (format === undefined) return undefined;
  if (format === 'json') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { name: 'response', schema: format } };
}

/** Options that mean the same in both protocols keep their names; Ollama's num_predict is max_tokens. */
const SAME_NAME = ['temperature', 'top_p', 'seed', 'stop', 'frequency_penalty', 'presence_penalty'] as const;

/** Ollama's options as OpenAI's sampling fields; the others (num_ctx, top_k, …) have no OpenAI equivalent. */
export function samplingFields(options: ModelOptions | undefined): Record<string, unknown> {
  if (options === undefined) return {};
  const fields: Record<string, unknown> = {};
  for (const name of SAME_NAME) if (options[name] !== undefined) fields[name] = options[name];
  const limit = options.num_predict;
  if (typeof limit === 'number' && limit >= 0) fields.max_tokens = limit;
  return fields;
}

export function openAiRequest(call: AgentCall, stream: boolean): OpenAiRequest {
  const { model } = call;
  const streaming = stream ? { stream: true, stream_options: { include_usage: true } } : {};
  if (call.operation === 'embed') {
    return { path: '/v1/embeddings', body: { model, input: call.input.input, encoding_format: 'float' } };
  }
  // A generate is a chat of one user message (and its system prompt): servers apply the model's template either way.
  const messages: ChatMessage[] =
    call.operation === 'chat'
      ? call.input.messages
      : [
          ...(call.input.system === undefined ? [] : [{ role: 'system' as const, content: call.input.system }]),
          { role: 'user', content: call.input.prompt, ...(call.input.images ? { images: call.input.images } : {}) },
        ];
  const tools = call.operation === 'chat' ? call.input.tools : undefined;
  return {
    path: '/v1/chat/completions',
    body: defined({
      model,
      messages: openAiMessages(messages),
      tools,
      response_format: responseFormat(call.input.format),
      ...samplingFields(call.input.options),
      ...streaming,
    }),
  };
}
