import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { envSchema } from '@hive/config';
import { durationMs, healthcheckOf, last, readDockerfile, ROOT } from './support/dockerfile.js';
import {
  COMPOSE_ONLY,
  connectionsPerReplica,
  PRODUCTION_EXAMPLE,
  readProductionExample,
  RESERVED_CONNECTIONS,
  SCHEMA_NAMES,
  STOCK_MAX_CONNECTIONS,
  READINESS_GRACE_MAX_MS,
  withTestSecrets,
} from './support/production-env.js';
import { at, isRecord, list, maybe, readYaml, rec, str } from './support/yaml-access.js';

/** docker/compose.yaml, the Prometheus and Grafana files it mounts, and .env.production.example it reads. */
const DOCKER = resolve(ROOT, 'docker');
const compose = readYaml(resolve(DOCKER, 'compose.yaml'));
const services = rec(compose, 'services');
const runtime = readDockerfile().runtime;
const example = readProductionExample();

/** A compose volume entry as [source, target]. */
function mounts(service: string): [string, string][] {
  return list(services, service, 'volumes').map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = ''] = v.split(':');
      return [source, target];
    }
    return [str(v, 'source'), str(v, 'target')];
  });
}

function envFiles(service: string): string[] {
  const value = at(services, service, 'env_file');
  return (Array.isArray(value) ? value : [value]).map((e: unknown) => (typeof e === 'string' ? e : str(e, 'path')));
}

/** Durations of compose (`40s`, `1m30s`). */
const seconds = (value: unknown) => durationMs(String(value)) / 1000;

describe('docker/compose.yaml', () => {
  it('has PostgreSQL, Hive, Prometheus and Grafana, with pinned images', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'hive', 'postgres', 'prometheus']);
    expect(str(services, 'postgres', 'image')).toMatch(/^postgres:1[56](\.\d+)*(-alpine|-bookworm)?$/);
    expect(str(services, 'prometheus', 'image')).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(str(services, 'grafana', 'image')).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('builds Hive from docker/Dockerfile with the repository as context, and runs 2 replicas', () => {
    const context = resolve(DOCKER, str(services, 'hive', 'build', 'context'));
    expect(context).toBe(ROOT);
    expect(resolve(context, str(services, 'hive', 'build', 'dockerfile'))).toBe(resolve(DOCKER, 'Dockerfile'));
    expect(at(services, 'hive', 'deploy', 'replicas')).toBe(2);
  });

  it('starts Hive once PostgreSQL passes its pg_isready health check, on a named volume', () => {
    expect(rec(services, 'hive', 'depends_on', 'postgres')).toEqual({ condition: 'service_healthy' });
    expect(list(services, 'postgres', 'healthcheck', 'test').join(' ')).toMatch(/pg_isready/);
    const [volume, target] = mounts('postgres')[0] ?? ['', ''];
    expect(target).toBe('/var/lib/postgresql/data');
    expect(Object.keys(rec(compose, 'volumes'))).toContain(volume);
  });

  it("health-checks Hive with the image's own HEALTHCHECK, and gives it time to drain on stop", () => {
    const { command, options } = healthcheckOf(runtime);
    expect(list(services, 'hive', 'healthcheck', 'test')).toEqual(['CMD', ...command]);
    for (const option of ['interval', 'timeout', 'retries']) {
      expect(String(at(services, 'hive', 'healthcheck', option))).toBe(options[option]);
    }
    expect(String(at(services, 'hive', 'healthcheck', 'start_period'))).toBe(options['start-period']);
    const config = { shutdownGraceMs: Number(example.env.SHUTDOWN_GRACE_MS) };
    expect(seconds(at(services, 'hive', 'stop_grace_period')) * 1000).toBeGreaterThan(
      config.shutdownGraceMs + READINESS_GRACE_MAX_MS,
    );
  });

  it("publishes Hive's container port, the image's EXPOSE", () => {
    const ports = list(services, 'hive', 'ports').map(String);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port.split(':').at(-1)).toBe(last(runtime, 'EXPOSE'));
  });

  it('takes secrets from .env.production, never from literals in the compose file', () => {
    expect(envFiles('hive').map((f) => resolve(DOCKER, f))).toEqual([resolve(ROOT, '.env.production')]);
    expect(existsSync(PRODUCTION_EXAMPLE)).toBe(true);
    for (const [name, service] of Object.entries(services)) {
      const environment = maybe(service, 'environment') ?? {};
      if (!isRecord(environment)) throw new Error(`${name}: environment must be a mapping`);
      for (const [key, value] of Object.entries(environment)) {
        if (!/PASSWORD|SECRET|TOKEN|KEY|DATABASE_URL/.test(key)) continue;
        expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) as unknown });
      }
    }
  });

  it('interpolates only variables that .env.production.example defines (or that have a default)', () => {
    const text = readFileSync(resolve(DOCKER, 'compose.yaml'), 'utf8');
    const used = [...text.matchAll(/\$\{([A-Z_]+)(:?[?-])?/g)].filter((m) => m[2] !== ':-').map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(example.names).toContain(name);
  });

  it('mounts docker/prometheus into Prometheus, whose config scrapes every replica of the "hive" service', () => {
    expect(mounts('prometheus')).toContainEqual(['./prometheus', '/etc/prometheus']);
    const prometheus = readYaml(resolve(DOCKER, 'prometheus/prometheus.yml'));
    const job = list(prometheus, 'scrape_configs').find((j) => maybe(j, 'job_name') === 'hive');
    expect(str(job, 'metrics_path')).toBe('/api/metrics');
    const sd = list(job, 'dns_sd_configs')[0];
    expect(list(sd, 'names')).toContain('hive');
    expect(String(at(sd, 'port'))).toBe(last(runtime, 'EXPOSE'));
    for (const rules of list(prometheus, 'rule_files').map(String)) {
      expect(existsSync(resolve(DOCKER, 'prometheus', rules))).toBe(true);
    }
  });

  it('mounts the Grafana provisioning and dashboards where the provisioning files expect them', () => {
    expect(mounts('grafana')).toContainEqual(['./grafana/provisioning', '/etc/grafana/provisioning']);
    const dashboardsMount = mounts('grafana').find(([source]) => source === './grafana/dashboards');
    const providers = readdirSync(resolve(DOCKER, 'grafana/provisioning/dashboards'));
    expect(providers.length).toBeGreaterThan(0);
    for (const file of providers) {
      const paths = list(readYaml(resolve(DOCKER, 'grafana/provisioning/dashboards', file)), 'providers').map((p) =>
        str(p, 'options', 'path'),
      );
      for (const path of paths) expect(dashboardsMount?.[1]).toBe(path);
    }
    const datasources = readdirSync(resolve(DOCKER, 'grafana/provisioning/datasources'));
    for (const file of datasources) {
      for (const source of list(readYaml(resolve(DOCKER, 'grafana/provisioning/datasources', file)), 'datasources')) {
        expect(Object.keys(services)).toContain(new URL(str(source, 'url')).hostname);
      }
    }
  });

  it("fits the replicas' connections in a stock PostgreSQL (max_connections 100, 3 reserved)", () => {
    const replicas = Number(at(services, 'hive', 'deploy', 'replicas'));
    expect(replicas * connectionsPerReplica(example.env)).toBeLessThanOrEqual(
      STOCK_MAX_CONNECTIONS - RESERVED_CONNECTIONS,
    );
  });
});

describe('.env.production.example', () => {
  it('sets every variable of the config schema once, plus the Compose-only passwords, and nothing else', () => {
    expect(example.names.filter((n, i) => example.names.indexOf(n) !== i)).toEqual([]);
    expect([...example.names].sort()).toEqual([...SCHEMA_NAMES, ...COMPOSE_ONLY].sort());
  });

  it('explains every variable in a comment just above it', () => {
    const lines = example.text.split('\n');
    const uncommented = lines
      .map((line, i) => ({ line, above: lines[i - 1] ?? '' }))
      .filter(({ line, above }) => /^[A-Z_]+=/.test(line) && !/^#\s*\S/.test(above))
      .map(({ line }) => line);
    expect(uncommented).toEqual([]);
  });

  it('holds no secret: the admin key, metrics token, secret key and passwords are empty, DATABASE_URL a placeholder', () => {
    for (const name of ['HIVE_ADMIN_API_KEY', 'METRICS_TOKEN', 'HIVE_SECRET_KEY', 'WEBHOOK_SECRET', ...COMPOSE_ONLY]) {
      expect({ name, value: example.env[name] }).toEqual({ name, value: '' });
    }
    expect(example.env.DATABASE_URL).toMatch(/REPLACE/);
  });

  it('is a valid production configuration once the secrets are filled in', () => {
    const parsed = envSchema.safeParse(withTestSecrets(example.env));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('is refused as it stands: Hive will not start until the admin key is set', () => {
    const parsed = envSchema.safeParse({ ...example.env, DATABASE_URL: 'postgres://hive:x@postgres:5432/hive' });
    expect(parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'))).toEqual(['HIVE_ADMIN_API_KEY']);
  });
});
