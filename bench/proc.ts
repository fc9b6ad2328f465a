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

/** CPU time of every process named `postgres` (the server's backends: shared with whoever else uses it). */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
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
