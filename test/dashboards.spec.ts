import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { scrape } from './support/scrape.js';
import { metricFamilies } from './support/prometheus-text.js';
import { dashboardExpressions, metricNames, ruleExpressions } from './support/promql-names.js';
import { promtool } from './support/prometheus-tools.js';

const DOCKER = resolve(import.meta.dirname, '../docker');
const DASHBOARD = resolve(DOCKER, 'grafana/dashboards/hive.json');
const ALERTS = resolve(DOCKER, 'prometheus/alerts.yml');

/** Series Prometheus makes itself rather than scraping them. */
const SYNTHETIC = new Set(['up']);

/** Why `name` is not a series of the scrape, or undefined when it is (histogram and summary parts map to their family). */
function missing(name: string, families: ReadonlyMap<string, string>): string | undefined {
  if (SYNTHETIC.has(name) || families.has(name)) return undefined;
  const part = /^(.*)_(bucket|sum|count)$/.exec(name);
  const type = part === null ? undefined : families.get(part[1] ?? '');
  if (type === 'histogram' || (type === 'summary' && part?.[2] !== 'bucket')) return undefined;
  return `${name} is not exported by Hive`;
}

describe('shipped dashboard and alert rules', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  let families: Map<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url });
    families = metricFamilies(await scrape(hive.url));
  });
  afterAll(async () => {
    await hive.close();
    await db.drop();
  });

  it('queries only metrics Hive exports in the Grafana dashboard', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof dashboardExpressions>[0];
    const exprs = dashboardExpressions(dashboard);
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    const names = new Set(exprs.flatMap(metricNames));
    expect([...names].flatMap((n) => missing(n, families) ?? [])).toEqual([]);
    // The rows the operators look for, each with panels.
    const rows = (dashboard as { panels: { type: string; title: string }[] }).panels.filter((p) => p.type === 'row');
    expect(rows.map((r) => r.title)).toEqual(['Overview', 'Tasks', 'Agents', 'Gateway', 'Service']);
  });

  it('queries only metrics Hive exports in the alert rules, each rule with an expression', () => {
    const yaml = readFileSync(ALERTS, 'utf8');
    const exprs = ruleExpressions(yaml);
    expect(exprs).toHaveLength((yaml.match(/^\s*- alert:/gm) ?? []).length);
    expect(exprs.every((e) => e !== '')).toBe(true);
    const names = new Set(exprs.flatMap(metricNames));
    expect(names.size).toBeGreaterThanOrEqual(8);
    expect([...names].flatMap((n) => missing(n, families) ?? [])).toEqual([]);
  });

  it('passes promtool check rules', () => {
    const result = promtool(['check', 'rules', ALERTS]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
