import { parseTaskInput, type OperationInput } from '@hive/coordinator';
import type { TaskOperation } from '@hive/database';
import type { z } from 'zod';
import { badRequest } from './gateway-error.js';

/** Zod's first problem as a 400 naming its field (`messages.0.role`). */
export function parsedBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.map(String).join('.') ?? '';
  const message = issue === undefined ? 'invalid request' : issue.message;
  throw badRequest(param === '' ? message : `${param}: ${message}`, param === '' ? undefined : param);
}

/**
 * The input in Hive's shape, checked as a task's input is (the same limits and messages, fields named without the
 * `input.` prefix): a 400 naming the field otherwise.
 */
export function hiveInput(operation: TaskOperation, input: Record<string, unknown>): OperationInput['input'] {
  const checked = parseTaskInput(operation, input, '');
  if ('input' in checked) return checked.input;
  // The paths come with the empty prefix's dot (".messages.0.role"); each message names one path.
  const errors = checked.errors.map((e) => e.replace(/(^|\s)\.(?=\w)/, '$1'));
  const param = /^(?:property )?(\S+)/.exec(errors[0] ?? '')?.[1];
  throw badRequest(errors.join('; '), param);
}

/** Only the fields given (undefined and null left out): clients send null for "not set". */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null));
}

/**
 * A message with only the fields Hive's chat input knows (`fields`), its tool calls with only theirs: clients replay
 * what their server sent, and servers add fields of their own (OpenAI's `refusal`, Ollama's `function.index`).
 */
export function knownMessageFields(raw: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const kept = Object.fromEntries(
    fields.filter((f) => raw[f] !== undefined && raw[f] !== null).map((f) => [f, raw[f]]),
  );
  if (Array.isArray(kept.tool_calls)) kept.tool_calls = kept.tool_calls.map(knownToolCallFields);
  return kept;
}

function knownToolCallFields(call: unknown): unknown {
  if (typeof call !== 'object' || call === null) return call;
  const { id, type, function: fn } = call as { id?: unknown; type?: unknown; function?: unknown };
  const named =
    typeof fn === 'object' && fn !== null
      ? { name: (fn as { name?: unknown }).name, arguments: (fn as { arguments?: unknown }).arguments }
      : fn;
  return { ...defined({ id, type }), function: named };
}
