import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { freePort } from '@hive/database';
import { pollUntil, waitUntil } from './support/poll.js';
import { requireBinary } from './support/prometheus-tools.js';
import { dashboardExpressions } from './support/promql-names.js';

const DOCKER = resolve(import.meta.dirname, '../docker');

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe('a real Prometheus server scraping Hive', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let api: string;
  const output: string[] = [];

  const query = async (promql: string): Promise<QueryResponse> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await res.json()) as QueryResponse;
  };
  const values = async (promql: string): Promise<string[]> =>
    ((await query(promql)).data?.result ?? []).map((r) => r.value[1]);

  beforeAll(async () => {
    const binary = requireBinary('prometheus');
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url });
    dir = await mkdtemp(join(tmpdir(), 'hive-prometheus-'));
    // The shipped rules, loaded by the real server next to a 1 s scrape of this test's Hive.
    await writeFile(join(dir, 'alerts.yml'), await readFile(join(DOCKER, 'prometheus/alerts.yml')));
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        'rule_files: [alerts.yml]',
        'scrape_configs:',
        '  - job_name: hive',
        '    metrics_path: /api/metrics',
        `    static_configs: [{ targets: ['${new URL(hive.url).host}'] }]`,
        '',
      ].join('\n'),
    );
    const address = `127.0.0.1:${await freePort()}`;
    api = `http://${address}`;
    prometheus = spawn(binary, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
    ]);
    prometheus.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    prometheus.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    // Every test talks to the server: it is ready before the first one, whichever that is.
    const ready = async () =>
      await fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    await waitUntil(ready, { describe: 'Prometheus to start', timeoutMs: 30_000, state: () => output.join('') });
  });
  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      await exited;
    }
    await hive.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('scrapes /api/metrics: up is 1 and hive_tasks has data', async () => {
    await waitUntil(async () => (await values('up{job="hive"}')).includes('1'), {
      describe: 'up{job="hive"} == 1',
      timeoutMs: 30_000,
    });
    await waitUntil(async () => (await values('hive_tasks{job="hive"}')).length === 5, {
      describe: 'hive_tasks series',
      timeoutMs: 30_000,
    });
    expect(await values('hive_tasks{job="hive", state="pending"}')).toEqual(['0']);
    expect(await values('hive_ready{job="hive"}')).toEqual(['1']);
    const [series] = await values('count({job="hive"})');
    console.log(`Prometheus scraped ${series} series from Hive (count({job="hive"}))`);
    expect(Number(series)).toBeGreaterThan(50);
  });

  it('loads the shipped alert rules, and evaluates each of them without an error', async () => {
    const rules = async () => {
      const res = await fetch(`${api}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
      return body.data.groups.flatMap((g) => g.rules);
    };
    // A rule's health is 'unknown' until its first evaluation: wait until every rule has had one.
    const evaluated = await pollUntil(rules, (all) => all.length > 0 && all.every((r) => r.health !== 'unknown'), {
      describe: 'every rule to be evaluated once',
      timeoutMs: 30_000,
    });
    expect(evaluated.length).toBeGreaterThanOrEqual(8);
    expect(evaluated.filter((r) => r.health === 'err')).toEqual([]);
  });

  it('parses every query of the Grafana dashboard', async () => {
    const dashboard = JSON.parse(await readFile(join(DOCKER, 'grafana/dashboards/hive.json'), 'utf8')) as Parameters<
      typeof dashboardExpressions
    >[0];
    for (const expr of dashboardExpressions(dashboard)) {
      const answer = await query(expr.replaceAll('$__rate_interval', '1m'));
      expect({ expr, status: answer.status, error: answer.error }).toEqual({
        expr,
        status: 'success',
        error: undefined,
      });
    }
  });
});
