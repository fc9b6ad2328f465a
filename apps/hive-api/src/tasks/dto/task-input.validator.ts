import { registerDecorator, type ValidationArguments } from 'class-validator';
import { parseTaskInput } from '@hive/coordinator';
import { TASK_OPERATIONS, type TaskOperation } from '@hive/database';
import { isBoundedJsonObject, type JsonBounds } from '../../validation/bounded-json.js';

/** The OpenAPI schemas of the inputs (added to the document from the coordinator's own, openapi/openapi.ts). */
export const INPUT_SCHEMA_NAMES = ['GenerateInput', 'ChatInput', 'EmbedInput'] as const;

const isOperation = (value: unknown): value is TaskOperation => TASK_OPERATIONS.includes(value as TaskOperation);

/** The sibling fields the input's check reads. */
interface TaskFields {
  type?: unknown;
  model?: unknown;
  operation?: unknown;
  context?: unknown;
}

/**
 * A task without input gets its prompt from its type and context: one that names only a model and has an empty
 * context would send the agent nothing to answer. (A task that names neither type nor model is refused for that.)
 */
const promptless = ({ type, model, context }: TaskFields): boolean =>
  type === undefined &&
  model !== undefined &&
  (context === undefined || (typeof context === 'object' && context !== null && Object.keys(context).length === 0));

/** A task's input checked: what is wrong with it (none when it is fine), and it in Hive's shape when it is. */
interface Checked {
  problems: string[];
  input?: Record<string, unknown>;
}

function check(value: unknown, task: TaskFields, bounds: JsonBounds): Checked {
  if (value === undefined) {
    return {
      problems: promptless(task) ? ['input must be given: the task names no type and its context is empty'] : [],
    };
  }
  if (!isBoundedJsonObject(value, bounds)) {
    return { problems: [`input must be a JSON object at most ${bounds.maxDepth} levels deep`] };
  }
  const operation = task.operation ?? 'generate';
  if (!isOperation(operation)) return { problems: [] }; // the operation's own check says so
  const parsed = parseTaskInput(operation, value);
  return 'errors' in parsed
    ? { problems: parsed.errors }
    : { problems: [], input: parsed.input as unknown as Record<string, unknown> };
}

/** Each checked task (the DTO): its problems, for the message that follows the check, and its input in Hive's shape. */
const checked = new WeakMap<object, Checked>();

/** The input of a validated task in Hive's shape, as its check made it (the check parses it once). */
export function checkedInput(task: object): Record<string, unknown> | undefined {
  return checked.get(task)?.input;
}

/**
 * The task's `input`: a JSON object within `bounds` that fits the task's operation (generate when absent), or
 * absent when the type or the context makes a prompt. The message names every problem, each with its field.
 */
export function TaskInput(bounds: JsonBounds): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'taskInput',
      target: target.constructor,
      propertyName: String(propertyKey),
      options: { message: (args: ValidationArguments) => (checked.get(args.object)?.problems ?? []).join('; ') },
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const result = check(value, args.object, bounds);
          checked.set(args.object, result);
          return result.problems.length === 0;
        },
      },
    });
}
