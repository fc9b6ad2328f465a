import { spawnSync } from 'node:child_process';

const INSTALL_HINT = "install Debian's prometheus package (apt-get install -y --no-install-recommends prometheus)";

/**
 * The path of a Prometheus binary (`promtool`, `prometheus`) on PATH. Throws when it is missing: the suites that
 * need it fail with this message instead of being skipped (CI installs the package).
 */
export function requireBinary(name: 'promtool' | 'prometheus'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
  return path;
}

export interface ToolResult {
  readonly status: number | null;
  /** stdout and stderr together (promtool reports problems on stderr). */
  readonly output: string;
}

/** Runs promtool with `input` on stdin (e.g. `check metrics` on a scrape). */
export function promtool(args: readonly string[], input?: string): ToolResult {
  const result = spawnSync(requireBinary('promtool'), args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}
