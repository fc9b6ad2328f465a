/**
 * Readings from /proc: CPU per process (/proc/<pid>/stat), machine-wide (/proc/stat, to see noise from other work
 * on the box), and a process's resident memory.
 */
import { readFileSync, readdirSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User and system (kernel: syscalls, loopback TCP) CPU time of a process, in ms. */
export function processCpuSplitMs(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      user: (Number(fields[11]) * 1000) / CLOCK_TICKS_PER_SECOND,
      system: (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** What earlier calls of postgresCpuMs saw of each postgres process, and the sum of it all. */
const postgresSeen = new Map<number, number>();
let postgresSeenTotal = 0;

/**
 * CPU time of every process named `postgres` (the server's backends: shared with whoever else uses it), ms,
 * accumulated over the calls: a process that ended keeps what an earlier call saw of it (its last moments are lost),
 * so a backend closing within a measured stretch does not take its whole life's CPU off that stretch.
 */
export function postgresCpuMs(): number {
  const alive = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const cpu = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
      const seen = postgresSeen.get(pid) ?? 0;
      // Less than seen: the pid was reused by a new process.
      postgresSeenTotal += cpu >= seen ? cpu - seen : cpu;
      postgresSeen.set(pid, cpu);
      alive.add(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  for (const pid of postgresSeen.keys()) if (!alive.has(pid)) postgresSeen.delete(pid);
  return postgresSeenTotal;
}

export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two readings (1 = every core busy the whole time). */
export const machineBusy = (from: MachineCpu, to: MachineCpu): number =>
  (to.busy - from.busy) / (to.total - from.total);

/** VmRSS of a process in bytes (NaN if unreadable). */
export function processRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? NaN : Number(match[1]) * 1024;
  } catch {
    return NaN;
  }
}
