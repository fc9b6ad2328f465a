const VIEW_COLUMNS = [
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
export function viewColumns(alias?: string): string {
  return VIEW_COLUMNS.map((c) => (alias === undefined ? c : `${alias}.${c}`)).join(', ');
}

/** The columns of a SubmittedTask. */
export const SUBMITTED_COLUMNS = 'id, type, priority, status, context, created_at';
