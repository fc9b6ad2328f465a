/** Metric names used by PromQL expressions of the shipped dashboard and alert rules, for checking them against a scrape. */

const NOT_METRICS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/** Every metric name an expression selects (functions, keywords, labels, durations and Grafana variables left out). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\$\{?\w+\}?/g, '') // Grafana variables ($__rate_interval)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name = '', call] = match;
    if (call === undefined && !NOT_METRICS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** The `expr` of every target of every panel (rows included) of a Grafana dashboard. */
export function dashboardExpressions(dashboard: { panels?: Panel[] }): string[] {
  const walk = (panels: Panel[] = []): string[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [t.expr])),
      ...walk(p.panels),
    ]);
  return walk(dashboard.panels);
}

/**
 * The `expr` of every rule of a Prometheus rules file, single-line or as a YAML block scalar (`expr: >-`). Not a
 * YAML parser: the suite also checks that there is one expr per rule, so a shape this misses fails loudly.
 */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (match === null) return;
    const [, indent = '', value = ''] = match;
    if (!/^[|>][-+]?$/.test(value.trim())) return void exprs.push(value.trim());
    const block: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== '' && next.length - next.trimStart().length <= indent.length) break;
      block.push(next.trim());
    }
    exprs.push(block.join(' ').trim());
  });
  return exprs;
}
