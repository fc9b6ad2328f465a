import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { all, durationMs, envOf, execForm, healthcheckOf, last, readDockerfile, ROOT } from './support/dockerfile.js';
import { parseSetting, readProductionExample, schemaDefault, SCHEMA_NAMES } from './support/production-env.js';

/** The Docker image: docker/Dockerfile, .dockerignore and what the build output needs at run time. */
const dockerfile = readDockerfile();
const runtime = dockerfile.runtime;
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
  engines: { node: string };
};
const SECRETS = ['DATABASE_URL', 'HIVE_ADMIN_API_KEY', 'METRICS_TOKEN', 'WEBHOOK_SECRET'];

function runs(stage: typeof runtime): string {
  return all(stage, 'RUN').join('\n');
}

describe('docker/Dockerfile', () => {
  it('builds in a node:24-slim stage, and the runtime stage is node:24-slim too (the Node of .nvmrc)', () => {
    const major = readFileSync(resolve(ROOT, '.nvmrc'), 'utf8').trim();
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(stage.from).toBe(`node:${major}-slim`);
    expect(pkg.engines.node).toContain(major);
    const build = dockerfile.stages.find((s) => s.name === 'build');
    if (build === undefined) throw new Error('no stage named build');
    expect(runs(build)).toMatch(/\bnpm ci\b/);
    expect(runs(build)).toMatch(/\bnpm run build\b/);
  });

  it('ships only package.json, production dependencies and the build output', () => {
    expect(runs(runtime)).toMatch(/\bnpm ci --omit=dev\b/);
    expect(all(runtime, 'COPY')).toEqual(['package.json package-lock.json ./', '--from=build /app/dist ./dist']);
    expect(all(runtime, 'ADD')).toEqual([]);
  });

  it('runs under dumb-init, installed without recommends and with the apt lists removed', () => {
    expect(runs(runtime)).toMatch(/apt-get install -y --no-install-recommends dumb-init/);
    expect(runs(runtime)).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    expect(execForm(last(runtime, 'ENTRYPOINT'))).toEqual(['/usr/bin/dumb-init', '--']);
  });

  it('runs as a numeric non-root user', () => {
    const [uid, gid] = last(runtime, 'USER').split(':').map(Number);
    expect(Number.isInteger(uid) && Number.isInteger(gid)).toBe(true);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  it('CMD runs the build output in exec form, the same command as npm run start:prod', () => {
    const cmd = execForm(last(runtime, 'CMD'));
    expect(cmd).toHaveLength(2);
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toBe(pkg.scripts['start:prod']);
    // npm test builds first (pretest), so the build output is there to check.
    expect(existsSync(resolve(ROOT, cmd[1] ?? ''))).toBe(true);
  });

  it('EXPOSEs the port its PORT default listens on', () => {
    expect(last(runtime, 'EXPOSE')).toBe('8000');
    expect(envOf(runtime).PORT).toBe('8000');
    expect(schemaDefault('PORT')).toBe(8000);
  });

  it('sets NODE_ENV=production, and every other ENV to the config schema default, with no secret', () => {
    const env = envOf(runtime);
    expect(env.NODE_ENV).toBe('production');
    const rest = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'NODE_ENV'));
    expect(Object.keys(rest).length).toBeGreaterThanOrEqual(10);
    for (const [name, value] of Object.entries(rest)) {
      expect(SCHEMA_NAMES).toContain(name);
      expect({ name, value: parseSetting(name, value) }).toEqual({ name, value: schemaDefault(name) });
    }
    for (const secret of SECRETS) expect(Object.keys(env)).not.toContain(secret);
  });

  it('HEALTHCHECKs liveness (/health) with node, every 30 s, 10 s timeout, 60 s start period, 3 retries', () => {
    const { options, command } = healthcheckOf(runtime);
    expect(durationMs(options.interval ?? '')).toBe(30_000);
    expect(durationMs(options.timeout ?? '')).toBe(10_000);
    expect(durationMs(options['start-period'] ?? '')).toBe(60_000);
    expect(options.retries).toBe('3');
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toMatch(/\/health'/);
    expect(command.join(' ')).not.toMatch(/curl|wget|\/health\/ready/);
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, local data, git, coverage, env files and tests out of the context', () => {
    const entries = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['**/node_modules', 'dist', '.hive', '.git', 'coverage', '.env', '.env.*', 'test']) {
      expect(entries).toContain(entry);
    }
    expect(entries.filter((e) => e.startsWith('!'))).toEqual([]);
  });
});

/** Bare module specifiers imported by the build output (static, dynamic and side-effect imports). */
function importedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  const pattern = /\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(pattern)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec))
        continue;
      const parts = spec.split('/');
      found.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
    }
  }
  return found;
}

describe('the build output', () => {
  it('imports only production dependencies (the image installs nothing else)', () => {
    const imported = importedPackages(resolve(ROOT, 'dist'));
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
  });
});

describe('.env.production.example', () => {
  it('is production-shaped: NODE_ENV=production, JSON logs, migrations under the lock', () => {
    const { env } = readProductionExample();
    expect(env.NODE_ENV).toBe('production');
    expect(parseSetting('DB_RUN_MIGRATIONS', env.DB_RUN_MIGRATIONS)).toBe(true);
    expect(parseSetting('LOG_LEVEL', env.LOG_LEVEL)).toBe('info');
  });
});
