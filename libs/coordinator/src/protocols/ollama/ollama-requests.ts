import type { ChatMessage, ToolCall } from '../../operations/operation-types.js';
import type { AgentCall } from '../protocol-adapter.js';
import { defined } from '../wire-json.js';

/** The path and body of the Ollama request for a call. */
export interface OllamaRequest {
  path: '/api/generate' | '/api/chat' | '/api/embed';
  body: Record<string, unknown>;
}

/** Ollama takes tool-call arguments as an object; a call Hive kept as text (not JSON) goes as an empty one. */
const ollamaToolCall = ({ function: fn }: ToolCall) => ({
  function: { name: fn.name, arguments: typeof fn.arguments === 'string' ? {} : fn.arguments },
});

/**
 * Messages as Ollama takes them: a tool's answer names its tool (`tool_name`), found from the assistant's call it
 * answers (`tool_call_id`, OpenAI's link) when only that was given.
 */
export function ollamaMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  const toolNames = new Map<string, string>();
  return messages.map((m) => {
    for (const call of m.tool_calls ?? []) toolNames.set(call.id, call.function.name);
    const toolName = m.tool_name ?? (m.tool_call_id === undefined ? undefined : toolNames.get(m.tool_call_id));
    return defined({
      role: m.role,
      content: m.content,
      images: m.images,
      tool_calls: m.tool_calls?.map(ollamaToolCall),
      tool_name: m.role === 'tool' ? toolName : undefined,
    });
  });
}

export function ollamaRequest(call: AgentCall, stream: boolean): OllamaRequest {
  const { model } = call;
  switch (call.operation) {
    case 'generate': {
      const { prompt, system, images, format, options, keep_alive } = call.input;
      return {
        path: '/api/generate',
        body: defined({ model, prompt, system, images, format, options, keep_alive, stream }),
      };
    }
    case 'chat': {
      const { messages, tools, format, options, keep_alive } = call.input;
      return {
        path: '/api/chat',
        body: defined({ model, messages: ollamaMessages(messages), tools, format, options, keep_alive, stream }),
      };
    }
    case 'embed': {
      const { input, options, keep_alive } = call.input;
      return { path: '/api/embed', body: defined({ model, input, options, keep_alive }) };
    }
  }
}
