/**
 * A statement Hive runs often: PostgreSQL parses and plans it once per connection (a named prepared statement),
 * not on every run. Names are unique per text (node-postgres refuses one name for two texts).
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export const statement = (name: string, text: string): Statement => ({ name: `hive.${name}`, text });
