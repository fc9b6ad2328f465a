import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TASK_STATUSES } from '@hive/database';
import { ROOT } from './support/dockerfile.js';
import { COMPOSE_ONLY, SCHEMA_NAMES } from './support/production-env.js';
import { list, readYaml, str } from './support/yaml-access.js';

/**
 * docs/operations.md and docs/architecture.md stay true: the npm scripts, files and settings they name exist, the
 * alerts they explain are the ones shipped, and the metrics they name are declared by the code.
 */
const read = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');
const operations = read('docs/operations.md');
const architecture = read('docs/architecture.md');
const docs = [operations, architecture].join('\n');
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);

/** Every .ts file under a folder (the source the docs describe). */
function sources(dir: string): string {
  return readdirSync(resolve(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

const unique = (values: string[]) => [...new Set(values)].sort();

/** Whether a path exists; a `*` in its last part matches any characters (`test/manifests*.spec.ts`). */
function exists(path: string): boolean {
  if (!path.includes('*')) return existsSync(resolve(ROOT, path));
  const dir = path.slice(0, path.lastIndexOf('/'));
  const name = new RegExp(
    `^${path
      .slice(dir.length + 1)
      .replace(/[.]/g, '\\.')
      .replace(/\*/g, '.*')}$`,
  );
  return existsSync(resolve(ROOT, dir)) && readdirSync(resolve(ROOT, dir)).some((f) => name.test(f));
}

describe('docs/operations.md and docs/architecture.md', () => {
  it('run only npm scripts that exist', () => {
    const used = unique([...docs.matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1] ?? ''));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('name only files and folders of this repository that exist (dist/ after the build)', () => {
    const pattern =
      /(?<![\w/.:-])((?:docker|docs|apps|libs|migrations|test|dist)\/[\w./*-]*[\w/*]|\.env\.production\.example|\.dockerignore|README\.md|package\.json)/g;
    const paths = unique([...docs.matchAll(pattern)].map((m) => m[1] ?? ''));
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !exists(p))).toEqual([]);
  });

  it('point kubectl and docker at the files this repository ships', () => {
    const targets = unique(
      [...docs.matchAll(/(?:kubectl|docker)[^\n]*?\s-[fk]\s+([^\s`'")]+)/g)].map((m) =>
        (m[1] ?? '').replace(/[.,;:]$/, ''),
      ),
    );
    expect(targets).toEqual(
      expect.arrayContaining(['docker/Dockerfile', 'docker/compose.yaml', 'docker/k8s']) as unknown,
    );
    expect(targets.filter((t) => !exists(t))).toEqual([]);
  });

  it('name only settings that exist', () => {
    const known = [...SCHEMA_NAMES, ...COMPOSE_ONLY, 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'OLLAMA_HOST'];
    const named = unique([...docs.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`/g)].map((m) => m[1] ?? ''));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !known.includes(n))).toEqual([]);
  });

  it('explain exactly the alerts of docker/prometheus/alerts.yml', () => {
    const shipped = list(readYaml(resolve(ROOT, 'docker/prometheus/alerts.yml')), 'groups').flatMap((g) =>
      list(g, 'rules').map((r) => str(r, 'alert')),
    );
    const explained = unique([...operations.matchAll(/^\| `(Hive\w+)`/gm)].map((m) => m[1] ?? ''));
    expect(explained).toEqual(unique(shipped));
  });

  it('name only metrics the code declares', () => {
    const code = [sources('libs'), sources('apps')].join('\n');
    const named = unique(
      [...docs.matchAll(/`(hive_[a-z_]+|http_request_duration_seconds)(?:\{[^`]*\})?`/g)].map((m) => m[1] ?? ''),
    );
    expect(named.length).toBeGreaterThan(10);
    const declared = (name: string) => ["'", '"', '`'].some((q) => code.includes(`${q}${name}${q}`));
    expect(named.filter((n) => !declared(n))).toEqual([]);
  });

  it('draw every task state in the lifecycle diagram', () => {
    const diagram = /```mermaid\n(stateDiagram-v2[\s\S]*?)```/.exec(architecture)?.[1] ?? '';
    for (const status of TASK_STATUSES) expect(diagram).toContain(status);
  });
});
