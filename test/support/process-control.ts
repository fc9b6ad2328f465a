import type { HiveProcess } from './hive-process.js';

/** pino's numeric levels. */
export const LEVEL = { info: 30, warn: 40, error: 50, fatal: 60 } as const;

export const message = (line: Record<string, unknown>): string => (typeof line.msg === 'string' ? line.msg : '');
export const level = (line: Record<string, unknown>): number => (typeof line.level === 'number' ? line.level : 0);

export function isRunning(hive: HiveProcess): boolean {
  return hive.child.exitCode === null && hive.child.signalCode === null;
}

/**
 * For afterAll/afterEach: ends a Hive process a failed test may have left running. SIGTERM first, so that it stops
 * its embedded PostgreSQL itself; SIGKILL when it has not exited after `graceMs`.
 */
export async function stopHiveProcess(hive: HiveProcess | undefined, graceMs = 20_000): Promise<void> {
  if (hive === undefined || !isRunning(hive)) return;
  hive.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([hive.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    hive.kill('SIGKILL');
    await hive.exited;
  }
}

/** Stops every process of a list (see stopHiveProcess), all of them even when one fails. */
export async function stopHiveProcesses(hives: readonly (HiveProcess | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(hives.map((hive) => stopHiveProcess(hive)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
