import { parseTaskInput, type TaskSubmission } from '@hive/coordinator';
import type { CreateTaskDto } from './dto/create-task.dto.js';

/**
 * A validated submission as the coordinator takes it: its input in Hive's own shape (chat messages given in
 * OpenAI's shape turned into Hive's). The DTO's validation already ran the same check, so it passes here.
 */
export function toSubmission({ input, ...task }: CreateTaskDto): TaskSubmission {
  if (input === undefined) return task;
  const check = parseTaskInput(task.operation ?? 'generate', input);
  if (!('input' in check)) throw new Error(`a validated input fails its check: ${check.errors.join('; ')}`);
  return { ...task, input: check.input as unknown as Record<string, unknown> };
}
