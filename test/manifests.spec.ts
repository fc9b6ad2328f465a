import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { envSchema } from '@hive/config';
import { backoffDelay } from '@hive/database';
import { healthcheckOf, last, readDockerfile, ROOT } from './support/dockerfile.js';
import { K8S_DIR, loadManifests, schemaError, strictTypeErrors, type Manifest } from './support/k8s-schemas.js';
import {
  connectionsPerReplica,
  readProductionExample,
  RESERVED_CONNECTIONS,
  schemaDefault,
  SCHEMA_NAMES,
  STOCK_MAX_CONNECTIONS,
  READINESS_GRACE_MAX_MS,
  withTestSecrets,
} from './support/production-env.js';
import { at, list, maybe, num, readYaml, rec, str, stringMap } from './support/yaml-access.js';

/** docker/k8s: schemas, and agreement with the app (probe paths, ports, shutdown timings, settings, user). */
const manifests = loadManifests();
const objects = manifests.filter((m) => m.doc.kind !== 'Kustomization');
const runtime = readDockerfile().runtime;

function one(kind: string, file?: string): Manifest['doc'] {
  const found = manifests.filter((m) => m.doc.kind === kind && (file === undefined || m.file === file));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${file === undefined ? '' : ` in ${file}`}, found ${found.length}`);
  const [only] = found;
  if (only === undefined) throw new Error(`no ${kind}`);
  return only.doc;
}

const deployment = one('Deployment');
const pod = rec(deployment, 'spec', 'template', 'spec');
const container = at(pod, 'containers', 0);
const configMap = stringMap(one('ConfigMap'), 'data');
const secret = one('Secret', 'secret.example.yaml');
const secretData = stringMap(secret, 'stringData');
const service = one('Service');
const example = readProductionExample();

/** A named or numbered container port, as a number. */
function containerPort(port: unknown): number {
  if (typeof port === 'number') return port;
  const found = list(container, 'ports').find((p) => maybe(p, 'name') === port);
  return num(found, 'containerPort');
}

describe('docker/k8s manifests: schemas', () => {
  it('every file is YAML of Kubernetes objects, each with a schema here', () => {
    const files = readdirSync(K8S_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    expect(new Set(manifests.map((m) => m.file))).toEqual(new Set(files));
    expect(objects.map((m) => `${m.doc.apiVersion} ${m.doc.kind}`).sort()).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'monitoring.coreos.com/v1 ServiceMonitor',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);
  });

  it('every object validates against the schema of its kind and apiVersion', async () => {
    const errors = await Promise.all(objects.map(async (m) => ({ file: m.file, error: await schemaError(m) })));
    expect(errors.filter((e) => e.error !== undefined)).toEqual([]);
  });

  it('no object has a field its schema does not know (strict, like kubectl --validate=strict)', () => {
    expect(strictTypeErrors(objects)).toEqual([]);
  }, 120_000);

  it('the two checks catch a misspelled field and a wrong type', async () => {
    const spec = rec(deployment, 'spec');
    const typo = { ...deployment, spec: { ...spec, replicaz: 2 } };
    expect(strictTypeErrors([{ file: 'typo', index: 0, doc: typo }]).join('\n')).toMatch(/replicaz/);
    const nested = structuredClone(deployment);
    rec(nested, 'spec', 'template', 'spec', 'containers', 0, 'securityContext').readOnlyRootFileSystem = true;
    expect(strictTypeErrors([{ file: 'nested', index: 0, doc: nested }]).join('\n')).toMatch(/readOnlyRootFileSystem/);
    const wrong = { ...deployment, spec: { ...spec, replicas: 'two' } };
    await expect(schemaError({ file: 'wrong', index: 0, doc: wrong })).resolves.toMatch(/replicas/);
  }, 120_000);

  it('kustomization.yaml lists every manifest except the Secret example', () => {
    const kustomization = one('Kustomization', 'kustomization.yaml');
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(Object.keys(kustomization).sort()).toEqual(['apiVersion', 'kind', 'resources']);
    const resources = list(kustomization, 'resources').map(String);
    for (const file of resources) expect(existsSync(resolve(K8S_DIR, file))).toBe(true);
    const expected = [...new Set(objects.map((m) => m.file))].filter((f) => f !== 'secret.example.yaml');
    expect([...resources].sort()).toEqual(expected.sort());
  });
});

describe('docker/k8s manifests: agreement with the app and the image', () => {
  it('runs 2 replicas, rolling one extra pod at a time and never below the desired count', () => {
    expect(num(deployment, 'spec', 'replicas')).toBe(2);
    expect(rec(deployment, 'spec', 'strategy')).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(str(container, 'image')).toMatch(/:[\w.-]+$/);
    expect(str(container, 'image')).not.toMatch(/:latest$/);
  });

  it("serves on the image's EXPOSE port, which the Service targets", () => {
    const expose = Number(last(runtime, 'EXPOSE'));
    expect(list(container, 'ports').map((p) => num(p, 'containerPort'))).toEqual([expose]);
    const ports = list(service, 'spec', 'ports');
    expect(ports).toHaveLength(1);
    expect(containerPort(at(ports, 0, 'targetPort'))).toBe(expose);
    expect(Number(configMap.PORT)).toBe(expose);
  });

  it('probes liveness and start-up on /health and readiness on /health/ready, on the runbook timings', () => {
    const expose = Number(last(runtime, 'EXPOSE'));
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(containerPort(at(container, probe, 'httpGet', 'port'))).toBe(expose);
    }
    expect(str(container, 'startupProbe', 'httpGet', 'path')).toBe('/health');
    expect(str(container, 'livenessProbe', 'httpGet', 'path')).toBe('/health');
    expect(str(container, 'readinessProbe', 'httpGet', 'path')).toBe('/health/ready');
    // Start-up grace: the image HEALTHCHECK's start period.
    const startPeriod = healthcheckOf(runtime).options['start-period'];
    const startup =
      num(container, 'startupProbe', 'periodSeconds') * num(container, 'startupProbe', 'failureThreshold');
    expect(`${startup}s`).toBe(startPeriod);
    // ...longer than connecting can take when the database does not answer: every attempt's connect timeout and
    // every backoff between them (Hive listens, and /health answers, only once connected and migrated).
    const retries = Number(configMap.DB_CONNECT_RETRIES);
    const backoffs = Array.from({ length: retries }, (_, i) =>
      backoffDelay(Number(configMap.DB_CONNECT_RETRY_DELAY_MS), i + 1),
    );
    const worstConnectMs =
      (retries + 1) * Number(configMap.DB_CONNECT_TIMEOUT_MS) + backoffs.reduce((a, b) => a + b, 0);
    expect(startup * 1000).toBeGreaterThan(worstConnectMs);
    expect(rec(container, 'livenessProbe')).toMatchObject({
      periodSeconds: 30,
      timeoutSeconds: 10,
      failureThreshold: 3,
    });
    expect(num(container, 'readinessProbe', 'periodSeconds')).toBeLessThanOrEqual(30);
    // The readiness check's own database timeout fits inside the probe's.
    expect(num(container, 'readinessProbe', 'timeoutSeconds') * 1000).toBeGreaterThan(
      Number(configMap.HEALTH_CHECK_TIMEOUT_MS),
    );
  });

  it('gives the shutdown more time than the preStop sleep, the readiness grace and SHUTDOWN_GRACE_MS together', () => {
    const grace = num(pod, 'terminationGracePeriodSeconds') * 1000;
    const shutdownGraceMs = Number(configMap.SHUTDOWN_GRACE_MS ?? schemaDefault('SHUTDOWN_GRACE_MS'));
    expect(grace).toBeGreaterThan(shutdownGraceMs);
    const preStop = list(container, 'lifecycle', 'preStop', 'exec', 'command').map(String);
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(preStopMs + READINESS_GRACE_MAX_MS + shutdownGraceMs);
  });

  it("runs locked down as the image's user, with a writable /tmp only", () => {
    const [uid, gid] = last(runtime, 'USER').split(':').map(Number);
    for (const context of [rec(pod, 'securityContext'), rec(container, 'securityContext')]) {
      expect(context).toMatchObject({
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(rec(container, 'securityContext')).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(list(container, 'volumeMounts')).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(at(pod, 'volumes', 0)).toMatchObject({ name: 'tmp', emptyDir: {} });
    expect(at(pod, 'automountServiceAccountToken')).toBe(false);
  });

  it('requests and limits 512Mi and 500m CPU', () => {
    const resources = { cpu: '500m', memory: '512Mi' };
    expect(rec(container, 'resources')).toEqual({ requests: resources, limits: resources });
  });

  it('reads its settings from the ConfigMap and the Secret, and its replica id from the pod name', () => {
    const envFrom = list(container, 'envFrom');
    expect(envFrom).toEqual([
      { configMapRef: { name: str(one('ConfigMap'), 'metadata', 'name') } },
      { secretRef: { name: str(secret, 'metadata', 'name') } },
    ]);
    expect(list(container, 'env')).toContainEqual({
      name: 'HIVE_REPLICA_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
  });

  it('sets every schema variable exactly once across ConfigMap, Secret and the pod env', () => {
    const env = list(container, 'env')
      .map((e) => str(e, 'name'))
      .filter((n) => n !== 'NODE_OPTIONS');
    const names = [...Object.keys(configMap), ...Object.keys(secretData), ...env];
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...names].sort()).toEqual(SCHEMA_NAMES);
  });

  it('the ConfigMap holds the values of .env.production.example, valid for the schema', () => {
    expect(configMap.NODE_ENV).toBe('production');
    for (const [name, value] of Object.entries(configMap))
      expect({ name, value }).toEqual({ name, value: example.env[name] });
    const parsed = envSchema.safeParse(withTestSecrets(configMap));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('the Secret example holds placeholders Hive refuses, not secrets', () => {
    expect(Object.keys(secretData).sort()).toEqual([
      'DATABASE_URL',
      'HIVE_ADMIN_API_KEY',
      'HIVE_SECRET_KEY',
      'METRICS_TOKEN',
      'WEBHOOK_SECRET',
    ]);
    expect(new URL(secretData.DATABASE_URL ?? '').hostname).toMatch(/\.invalid$/);
    const parsed = envSchema.safeParse({ ...withTestSecrets(configMap), ...secretData });
    const refused = parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
    expect(refused.sort()).toEqual(['HIVE_ADMIN_API_KEY', 'HIVE_SECRET_KEY', 'METRICS_TOKEN', 'WEBHOOK_SECRET']);
  });

  it('selects the pods it means to: Service, PodDisruptionBudget, ServiceMonitor and autoscaler', () => {
    const labels = rec(deployment, 'spec', 'template', 'metadata', 'labels');
    expect(rec(deployment, 'spec', 'selector', 'matchLabels')).toEqual(labels);
    expect(rec(service, 'spec', 'selector')).toEqual(labels);
    expect(rec(one('PodDisruptionBudget'), 'spec', 'selector', 'matchLabels')).toEqual(labels);
    expect(rec(one('ServiceMonitor'), 'spec', 'selector', 'matchLabels')).toEqual(rec(service, 'metadata', 'labels'));
    expect(rec(one('HorizontalPodAutoscaler'), 'spec', 'scaleTargetRef')).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: str(deployment, 'metadata', 'name'),
    });
  });

  it('keeps one pod through voluntary disruptions and scales on CPU from 2', () => {
    expect(num(one('PodDisruptionBudget'), 'spec', 'minAvailable')).toBe(1);
    const hpa = one('HorizontalPodAutoscaler');
    expect(num(hpa, 'spec', 'minReplicas')).toBe(num(deployment, 'spec', 'replicas'));
    expect(num(hpa, 'spec', 'minReplicas')).toBeGreaterThan(num(one('PodDisruptionBudget'), 'spec', 'minAvailable'));
    expect(str(hpa, 'spec', 'metrics', 0, 'resource', 'name')).toBe('cpu');
  });

  it("fits the autoscaler's ceiling plus the rollout surge in a stock PostgreSQL (100 connections, 3 reserved)", () => {
    const pods =
      num(one('HorizontalPodAutoscaler'), 'spec', 'maxReplicas') +
      num(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxSurge');
    expect(pods * connectionsPerReplica(configMap)).toBeLessThanOrEqual(STOCK_MAX_CONNECTIONS - RESERVED_CONNECTIONS);
  });

  it('scrapes /api/metrics through the Service\'s port, with the Secret\'s METRICS_TOKEN, as job "hive"', () => {
    const endpoint = at(one('ServiceMonitor'), 'spec', 'endpoints', 0);
    expect(str(endpoint, 'port')).toBe(str(service, 'spec', 'ports', 0, 'name'));
    expect(str(endpoint, 'path')).toBe('/api/metrics');
    expect(rec(endpoint, 'authorization', 'credentials')).toEqual({
      name: str(secret, 'metadata', 'name'),
      key: 'METRICS_TOKEN',
    });
    // Prometheus names the job after the Service; the alert rules select job="hive".
    expect(str(service, 'metadata', 'name')).toBe('hive');
    const jobs = list(readYaml(resolve(ROOT, 'docker/prometheus/prometheus.yml')), 'scrape_configs').map((j) =>
      str(j, 'job_name'),
    );
    expect(jobs).toContain(str(service, 'metadata', 'name'));
  });
});
