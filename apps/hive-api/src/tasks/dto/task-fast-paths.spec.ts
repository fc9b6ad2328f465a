import 'reflect-metadata';
import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import fc from 'fast-check';
import { VALIDATION } from '../../validation/fast-path-validation.pipe.js';
import { CreateTaskDto } from './create-task.dto.js';
import { CreateTaskBatchDto } from './create-task-batch.dto.js';
import { fastCreateTask, fastCreateTaskBatch, fastNoWait } from './task-fast-paths.js';
import { WaitQuery } from './wait.query.js';

const pipe = new ValidationPipe(VALIDATION);
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

/** What class-validator makes of a value: the DTO, or 'refused'. */
const validated = (value: unknown, metatype: ArgumentMetadata['metatype']): Promise<unknown> =>
  (pipe.transform(structuredClone(value), body(metatype)) as Promise<unknown>).catch(() => 'refused');

/** Values on both sides of each rule's edges, and of other types. */
const edgy = fc.oneof(
  fc.constantFrom(undefined, null, 0, 1, 3, 5, 6, 20, 21, 99, 100, 3_600_000, 3_600_001, -1, 2.5, '3', true, [], {}),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constantFrom('work', 'WORK', 'a.b-c_d', '', '-x', 'x'.repeat(63), 'x'.repeat(64), 'has space', 'x'.repeat(201)),
  fc.constantFrom('generate', 'Generate', 'sing', 'llama3:8b', 'tab\there'),
  fc.object(),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.anything(),
);
/** Keys that mean something to JavaScript objects. */
const AWKWARD_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__lookupGetter__',
];

/** Mostly valid values for a field, sometimes edgy ones. */
const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: edgy, weight: 1 });
const fields = {
  type: field(fc.constantFrom('work', 'code.review', 'a', 'x'.repeat(63))),
  operation: field(fc.constantFrom('generate', 'chat', 'embed')),
  model: field(fc.constantFrom('llama3:8b', 'meta-llama/Llama-3.1-8B', 'x'.repeat(200))),
  priority: field(fc.integer({ min: 1, max: 5 })),
  context: field(
    fc.oneof(
      fc.constant({ prompt: 'p' }),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...AWKWARD_KEYS)), fc.jsonValue()),
    ),
  ),
  max_attempts: field(fc.integer({ min: 1, max: 20 })),
  timeout_ms: field(fc.integer({ min: 100, max: 3_600_000 })),
};
const task = fc.record({ ...fields, surprise: edgy }, { requiredKeys: [] });
/** Tasks without unknown fields, so that whole batches get accepted too. */
const knownTask = fc.record(fields, { requiredKeys: [] });
/**
 * A fixed seed: the same values every run, so the suite cannot pass one day and fail the next on what the generator
 * happened to draw (how many accepted values a run sees depends on it). Change it to explore; keep what fails.
 */
const SEED = 20_261_201;
const deepContext = (levels: number) => {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
};

describe('task fast paths', () => {
  it('never accept a task the decorators refuse, and build what class-transformer builds', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(task, async (value) => {
        const fast = fastCreateTask(structuredClone(value));
        if (fast === undefined) return;
        accepted += 1;
        const dto = await validated(value, CreateTaskDto);
        expect(dto).toBeInstanceOf(CreateTaskDto);
        expect(fast).toBeInstanceOf(CreateTaskDto);
        expect(fast).toEqual(dto);
      }),
      { numRuns: 3000, seed: SEED },
    );
    expect(accepted).toBeGreaterThan(100); // the property was tested on accepted values, not only refused ones
  });

  it('never accept a batch the decorators refuse', async () => {
    let accepted = 0;
    const batch = fc.oneof(
      fc.record({ tasks: fc.array(knownTask, { maxLength: 4 }) }, { requiredKeys: [] }),
      fc.record({ tasks: fc.array(task, { maxLength: 2 }) }),
      fc.record({ tasks: fc.array(knownTask, { maxLength: 2 }), extra: edgy }),
      edgy,
    );
    await fc.assert(
      fc.asyncProperty(batch, async (value) => {
        const fast = fastCreateTaskBatch(structuredClone(value));
        if (fast === undefined) return;
        accepted += 1;
        const dto = await validated(value, CreateTaskBatchDto);
        expect(fast).toEqual(dto);
        expect(fast.tasks.every((t) => t instanceof CreateTaskDto)).toBe(true);
      }),
      { numRuns: 1000, seed: SEED },
    );
    expect(accepted).toBeGreaterThan(10);
  });

  it.each([
    [{ type: 'work' }],
    [{ type: 'work', priority: 5, context: { prompt: 'Write a binary search in Go' }, max_attempts: 2 }],
    [{ type: 'work', context: deepContext(9), timeout_ms: 100 }], // the context itself is the tenth level
    [{ model: 'llama3:8b', operation: 'chat', context: { prompt: 'hi' } }],
    [{ type: 'work', model: 'meta-llama/Llama-3.1-8B', operation: 'embed' }],
  ])('take the common case %j, with the defaults', async (value) => {
    const fast = fastCreateTask(structuredClone(value));
    expect(fast).toEqual(await validated(value, CreateTaskDto));
    expect(fast).toMatchObject({ priority: 3, context: {}, ...value });
  });

  it.each([
    [{ type: 'work', context: deepContext(10) }],
    [{ type: 'work', context: { blob: 'x'.repeat(256 * 1024) } }],
    [{ type: 'work', priority: null }],
    [{ type: 'work', max_attempts: null }],
    [{ type: 'work', extra: 1 }],
    [{ type: 'Bad Type' }],
    [{ priority: 4 }], // neither type nor model
    [{ type: 'work', input: { prompt: 'hi' } }], // an input is checked by class-validator's decorator
  ])('leave the rest to class-validator: %#', (value) => {
    expect(fastCreateTask(value)).toBeUndefined();
  });

  it('take a batch of valid tasks, and leave an empty or oversized one to class-validator', async () => {
    const batch = { tasks: [{ type: 'work' }, { type: 'work', priority: 5 }] };
    expect(fastCreateTaskBatch(structuredClone(batch))).toEqual(await validated(batch, CreateTaskBatchDto));
    expect(fastCreateTaskBatch({ tasks: [] })).toBeUndefined();
    expect(fastCreateTaskBatch({ tasks: Array.from({ length: 1001 }, () => ({ type: 'work' })) })).toBeUndefined();
  });

  it('take a submission without a query string as no wait, and leave any query to class-validator', async () => {
    const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });
    const empty = Object.create(null) as object; // as Fastify parses an absent query string
    expect(fastNoWait(empty)).toEqual(await pipe.transform({}, query(WaitQuery)));
    expect(fastNoWait(empty)).toBeInstanceOf(WaitQuery);
    for (const value of [{ wait: '5' }, { wait: '' }, { other: '1' }, null, []])
      expect(fastNoWait(value)).toBeUndefined();
  });
});
