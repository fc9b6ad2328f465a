/** What `queryRows` needs: TypeORM's DataSource and EntityManager both fit. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The rows a statement returns. TypeORM's `query()` answers an UPDATE or DELETE on PostgreSQL with
 * `[rows, rowCount]` instead of the rows (a SELECT or an INSERT gets the rows), so every `UPDATE … RETURNING` and
 * `DELETE … RETURNING` reads its rows through here. Rows are objects, never arrays, so the pair cannot be mistaken
 * for a result.
 */
export async function queryRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const raw = await db.query(sql, params);
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') {
    return raw[0] as T[];
  }
  return raw as T[];
}
