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
  const [first = 'invalid request'] = checked.errors.map((e) => e.replace(/^\./, ''));
  const param = /^(\S+)/.exec(first)?.[1];
  throw badRequest(checked.errors.map((e) => e.replace(/^\./, '')).join('; '), param);
}

/** Only the fields given (undefined and null left out): clients send null for "not set". */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null));
}
