import type { TaskStatus } from '@hive/database';

export interface TaskView {
  id: string;
  type: string;
  priority: number;
  status: TaskStatus;
  context: Record<string, unknown>;
  assigned_agent: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

const COLUMNS = [
  'id',
  'type',
  'priority',
  'status',
  'context',
  'assigned_agent',
  'result',
  'error',
  'attempts',
  'max_attempts',
  'timeout_ms',
  'created_at',
  'started_at',
  'completed_at',
];

/** The columns a TaskView is made of, optionally qualified by a table alias. */
export function taskColumns(alias?: string): string {
  return COLUMNS.map((c) => (alias === undefined ? c : `${alias}.${c}`)).join(', ');
}

export type TaskCounts = Record<TaskStatus, number> & { total: number };
