import type { TaskOperation } from '@hive/database';
import type { ChatMessage, OperationInput } from './operation-types.js';

/** Fields of a task's context that are passed to Ollama as they are, not rendered into the prompt. */
const PASS_THROUGH = new Set(['prompt', 'system', 'options']);

function render(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return String(value);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v] as const) : Object.entries(value);
  return entries
    .map(([key, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${key}:\n${render(v, `${indent}  `)}`
        : `${indent}${key}: ${String(v)}`,
    )
    .join('\n');
}

export interface GeneratePrompt {
  prompt: string;
  system?: string;
  options?: Record<string, unknown>;
}

/**
 * The prompt is `context.prompt` when given, else a readable rendering of the context ("key: value" lines,
 * nested objects indented, after the task's type). `context.system` and `context.options` pass through.
 */
export function buildPrompt(type: string, context: Record<string, unknown> | null): GeneratePrompt {
  // The API only stores objects; a row written some other way must not break dispatch.
  context = context !== null && typeof context === 'object' ? context : {};
  const { prompt, system, options } = context;
  const rest = Object.fromEntries(Object.entries(context).filter(([key]) => !PASS_THROUGH.has(key)));
  return {
    prompt:
      typeof prompt === 'string' ? prompt : `${type === '' ? '' : `Task: ${type}\n`}${render(rest, '')}`.trimEnd(),
    ...(typeof system === 'string' ? { system } : {}),
    ...(options !== null && typeof options === 'object' && !Array.isArray(options)
      ? { options: options as Record<string, unknown> }
      : {}),
  };
}

/**
 * The input of a task that gave none, from its context: the prompt (above) for generate, a user message after its
 * system prompt for chat, the prompt's text for embed. Options pass through.
 */
export function inputFromContext(
  operation: TaskOperation,
  type: string,
  context: Record<string, unknown> | null,
): OperationInput {
  const { prompt, system, options } = buildPrompt(type, context);
  switch (operation) {
    case 'generate':
      return { operation, input: { prompt, system, options } };
    case 'chat': {
      const messages: ChatMessage[] = [
        ...(system === undefined ? [] : [{ role: 'system' as const, content: system }]),
        { role: 'user', content: prompt },
      ];
      return { operation, input: { messages, options } };
    }
    case 'embed':
      return { operation, input: { input: prompt, options } };
  }
}
