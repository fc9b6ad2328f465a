import type { TaskSubmission } from '@hive/coordinator';
import type { CreateTaskDto } from './dto/create-task.dto.js';
import { checkedInput } from './dto/task-input.validator.js';

/**
 * A validated submission as the coordinator takes it: its input in Hive's own shape (chat messages given in
 * OpenAI's shape turned into Hive's), as the DTO's validation left it.
 */
export function toSubmission(dto: CreateTaskDto): TaskSubmission {
  const { input: given, ...task } = dto;
  if (given === undefined) return task;
  const input = checkedInput(dto);
  if (input === undefined) throw new Error('a task with an input reached the service without its check');
  return { ...task, input };
}
