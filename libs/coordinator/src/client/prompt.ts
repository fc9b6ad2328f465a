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
 * nested objects indented). `context.system` and `context.options` pass through.
 */
export function buildPrompt(type: string, context: Record<string, unknown> | null): GeneratePrompt {
  // The API only stores objects; a row written some other way must not break dispatch.
  context = context !== null && typeof context === 'object' ? context : {};
  const { prompt, system, options } = context;
  const rest = Object.fromEntries(Object.entries(context).filter(([key]) => !PASS_THROUGH.has(key)));
  return {
    prompt: typeof prompt === 'string' ? prompt : `Task: ${type}\n${render(rest, '')}`.trimEnd(),
    ...(typeof system === 'string' ? { system } : {}),
    ...(options !== null && typeof options === 'object' && !Array.isArray(options)
      ? { options: options as Record<string, unknown> }
      : {}),
  };
}
