import type { ArgumentMetadata } from '@nestjs/common';
import type { FastPath } from '../../validation/fast-path-validation.pipe.js';
import { isBoundedJsonObject } from '../../validation/bounded-json.js';
import { TASK_OPERATIONS, type TaskOperation } from '@hive/database';
import { MODEL_NAME, SPECIALTY } from '../../agents/dto/agent-fields.js';
import { CONTEXT_BOUNDS, CreateTaskDto } from './create-task.dto.js';
import { CreateTaskBatchDto, MAX_BATCH_TASKS } from './create-task-batch.dto.js';
import { WaitQuery } from './wait.query.js';

/** The fields of the common case; a task with an input goes to class-validator (its check is the costly part). */
const TASK_FIELDS = new Set(['type', 'operation', 'model', 'priority', 'context', 'max_attempts', 'timeout_ms']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Whether a key the ValidationPipe drops sits anywhere in a JSON value: it deletes `__proto__`, `prototype` and
 * `constructor`, and class-transformer skips the names of Object.prototype's members (`toString`, ...). A value
 * holding one is left to them, so it is stored as it always was.
 */
function hasDroppedKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasDroppedKey);
  for (const key of Object.keys(value)) {
    if (key === 'prototype' || key in Object.prototype || hasDroppedKey((value as Record<string, unknown>)[key]))
      return true;
  }
  return false;
}

/** Absent, or an integer within [min, max] (an explicit null goes to the decorators). */
const absentOrIntIn = (value: unknown, min: number, max: number): boolean =>
  value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max);

/** Absent, or a string matching `pattern`. */
const absentOrMatching = (value: unknown, pattern: RegExp): boolean =>
  value === undefined || (typeof value === 'string' && pattern.test(value));

/** CreateTaskDto's rules, as its decorators state them. */
export const fastCreateTask: FastPath<CreateTaskDto> = (value) => {
  if (!isPlainObject(value)) return undefined;
  for (const key in value) if (!TASK_FIELDS.has(key)) return undefined;
  const { type, operation, model, priority, context, max_attempts, timeout_ms } = value;
  const valid =
    // Only a model and no context: the decorators ask for an input.
    (type !== undefined || (model !== undefined && isPlainObject(context) && Object.keys(context).length > 0)) &&
    absentOrMatching(type, SPECIALTY) &&
    absentOrMatching(model, MODEL_NAME) &&
    (operation === undefined || TASK_OPERATIONS.includes(operation as TaskOperation)) &&
    absentOrIntIn(priority, 1, 5) &&
    (context === undefined || (isBoundedJsonObject(context, CONTEXT_BOUNDS) && !hasDroppedKey(context))) &&
    absentOrIntIn(max_attempts, 1, 20) &&
    absentOrIntIn(timeout_ms, 100, 3_600_000);
  return valid ? Object.assign(new CreateTaskDto(), value) : undefined;
};

/** CreateTaskBatchDto's rules: 1–MAX_BATCH_TASKS tasks, each one for fastCreateTask. */
export const fastCreateTaskBatch: FastPath<CreateTaskBatchDto> = (value) => {
  if (!isPlainObject(value)) return undefined;
  for (const key in value) if (key !== 'tasks') return undefined;
  const { tasks } = value;
  if (!Array.isArray(tasks) || tasks.length < 1 || tasks.length > MAX_BATCH_TASKS) return undefined;
  const dtos: CreateTaskDto[] = [];
  for (const task of tasks as unknown[]) {
    const dto = fastCreateTask(task);
    if (dto === undefined) return undefined;
    dtos.push(dto);
  }
  return Object.assign(new CreateTaskBatchDto(), { tasks: dtos });
};

/** A submission without a query string (the common case): no wait. Any query goes to class-validator. */
export const fastNoWait: FastPath<WaitQuery> = (value) =>
  isPlainObject(value) && Object.keys(value).length === 0 ? new WaitQuery() : undefined;

export const TASK_FAST_PATHS = new Map<ArgumentMetadata['metatype'], FastPath>([
  [CreateTaskDto, fastCreateTask],
  [CreateTaskBatchDto, fastCreateTaskBatch],
  [WaitQuery, fastNoWait],
]);
