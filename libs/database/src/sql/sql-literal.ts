/** An element of an array literal: quoted, with backslashes and double quotes escaped. */
const arrayElement = (value: unknown): string =>
  value === null || value === undefined ? 'NULL' : `"${asText(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The text a parameter is sent as (PostgreSQL then reads it as the type the statement gives it). */
function asText(value: unknown): string {
  if (Array.isArray(value)) return `{${value.map(arrayElement).join(',')}}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * Quoted as libpq quotes a literal, quotes doubled, and `E'…'` with backslashes doubled when it holds one: what pg's
 * escapeLiteral writes, without building the text a character at a time (a claim writes kilobytes of it).
 */
function quoted(text: string): string {
  const body = text.replace(/'/g, "''");
  return text.includes('\\') ? ` E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/**
 * A statement's parameter written as an SQL literal (for EXECUTE of a statement prepared with SQL PREPARE): its
 * text as node-postgres would send it, quoted, so that PostgreSQL casts it to the parameter's type alike.
 */
export const sqlLiteral = (value: unknown): string =>
  value === null || value === undefined ? 'NULL' : quoted(asText(value));
