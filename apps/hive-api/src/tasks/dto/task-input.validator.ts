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

/** What is wrong with a task's input; none when it is fine. */
function problems(value: unknown, task: TaskFields, bounds: JsonBounds): string[] {
  if (value === undefined) {
    return promptless(task) ? ['input must be given: the task names no type and its context is empty'] : [];
  }
  if (!isBoundedJsonObject(value, bounds))
    return [`input must be a JSON object at most ${bounds.maxDepth} levels deep`];
  const operation = task.operation ?? 'generate';
  if (!isOperation(operation)) return []; // the operation's own check says so
  const check = parseTaskInput(operation, value);
  return 'errors' in check ? check.errors : [];
}

/** Each checked task's problems, for the message that follows the check. */
const found = new WeakMap<object, string[]>();

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
      options: { message: (args: ValidationArguments) => (found.get(args.object) ?? []).join('; ') },
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const list = problems(value, args.object, bounds);
          found.set(args.object, list);
          return list.length === 0;
        },
      },
    });
}
