/** Columns where '' is stored for "none" (any specialty, the agent's default model): the API shows null. */
const EMPTY_AS_NULL = new Set(['type', 'model']);

const SUBMITTED = ['id', 'type', 'operation', 'model', 'priority', 'status', 'context', 'created_at'];
const VIEW = [
  ...SUBMITTED,
  'input',
  'assigned_agent',
  'result',
  'error',
  'attempts',
  'max_attempts',
  'timeout_ms',
  'stream',
  'callback_url',
  'gateway',
  'retain',
  'started_at',
  'completed_at',
];

const select = (columns: readonly string[], alias?: string): string =>
  columns
    .map((c) => {
      const column = alias === undefined ? c : `${alias}.${c}`;
      return EMPTY_AS_NULL.has(c) ? `nullif(${column}, '') AS ${c}` : column;
    })
    .join(', ');

/** The columns a TaskView is made of, optionally qualified by a table alias. */
export const viewColumns = (alias?: string): string => select(VIEW, alias);

/** The columns of a SubmittedTask. */
export const SUBMITTED_COLUMNS = select(SUBMITTED);
