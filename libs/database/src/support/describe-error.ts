/**
 * One line saying what went wrong, for logs and error messages: the message with its code (`ECONNREFUSED`, a
 * PostgreSQL SQLSTATE) when the message lacks it, and every cause of an AggregateError (IPv4 and IPv6 both refused).
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message === '' ? error.name : error.message;
    return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  }
  return String(error);
}
