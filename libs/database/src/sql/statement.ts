/**
 * A statement Hive runs often: PostgreSQL parses and plans it once per connection (a named prepared statement),
 * not on every run. Each name has one text: node-postgres would refuse the second text on a connection that
 * prepared the first, so a clash fails at start-up instead.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const declared = new Map<string, string>();

export function statement(name: string, text: string): Statement {
  const prefixed = `hive.${name}`;
  const earlier = declared.get(prefixed);
  if (earlier !== undefined && earlier !== text) throw new Error(`Two statements are named ${prefixed}`);
  declared.set(prefixed, text);
  return { name: prefixed, text };
}
