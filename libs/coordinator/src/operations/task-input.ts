import { z } from 'zod';
import type { TaskOperation } from '@hive/database';
import { chatInputSchema, embedInputSchema, generateInputSchema } from './input-schemas.js';
import type { OperationInput } from './operation-types.js';

const SCHEMAS = { generate: generateInputSchema, chat: chatInputSchema, embed: embedInputSchema } as const;

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** Zod's names of JSON types as the API's documents say them: a record is an object, an array a list. */
const TYPE_NAMES: Readonly<Record<string, string>> = { array: 'list', record: 'object', int: 'integer' };

/** Zod's issues worded as Hive words validation errors: the field's full path, then what is wrong with it. */
function describeIssue(issue: z.core.$ZodIssue, prefix: string): string[] {
  const path = [prefix, ...issue.path.map(String)].join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `property ${path}.${key} should not exist`);
    case 'invalid_type':
      return [
        issue.input === undefined
          ? `${path} is required`
          : `${path} must be ${article(TYPE_NAMES[issue.expected] ?? issue.expected)}`,
      ];
    case 'invalid_value':
      return [`${path} must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`];
    case 'too_small':
      return [
        issue.origin === 'string'
          ? `${path} must not be empty`
          : `${path} must have at least ${String(issue.minimum)} item(s)`,
      ];
    case 'too_big':
      return [
        issue.origin === 'string'
          ? `${path} must be at most ${String(issue.maximum)} characters`
          : `${path} must have at most ${String(issue.maximum)} items`,
      ];
    // The schemas word these themselves ('must be base64-encoded', 'must be a data: URL …').
    case 'custom':
    case 'invalid_format':
    case 'invalid_union':
    case 'invalid_element':
    case 'invalid_key':
    case 'not_multiple_of':
      return [`${path} ${issue.message}`];
  }
}

export type InputCheck = { input: OperationInput['input'] } | { errors: string[] };

/**
 * Checks a task's input for its operation and returns it in Hive's own shape, or the problems, each naming its
 * field (`input.messages.0.role must be …`).
 */
export function parseTaskInput(operation: TaskOperation, input: unknown, prefix = 'input'): InputCheck {
  const parsed = SCHEMAS[operation].safeParse(input, { reportInput: true });
  if (parsed.success) return { input: parsed.data };
  return { errors: parsed.error.issues.flatMap((issue) => describeIssue(issue, prefix)) };
}

/** Each operation's input as an OpenAPI 3.0 schema (what clients may send), by its name in API documents. */
export function inputJsonSchemas(): Record<'GenerateInput' | 'ChatInput' | 'EmbedInput', Record<string, unknown>> {
  const schema = (operation: TaskOperation) =>
    z.toJSONSchema(SCHEMAS[operation], { target: 'openapi-3.0', io: 'input' }) as Record<string, unknown>;
  return { GenerateInput: schema('generate'), ChatInput: schema('chat'), EmbedInput: schema('embed') };
}
