/**
 * Where a process spent its CPU: a V8 .cpuprofile (from the inspector's Profiler domain) reduced to self time per
 * package or module and per function. Used by `BENCH_PROFILE=1 npm run bench`, or standalone:
 * `node dist/bench/cpu-profile.js file.cpuprofile`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<package>, Hive's own app/lib folders, node internals, or V8's pseudo-frames. */
function owner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1] !== undefined) return modules[1];
  const hive = /\/dist\/((?:apps|libs)\/[^/]+(?:\/src\/[^/]+)?)/.exec(url);
  if (hive?.[1] !== undefined) return `hive:${hive[1].replace('/src', '')}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/([^/]+).*$/, 'node:$1');
  return url.replace(/^file:\/\//, '');
}

/** Frames that stand for time the process was not running: idle, or descheduled inside a socket write. */
const OFF_CPU = new Set(['(idle)', 'writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);

/**
 * Self time by owner and by function, as shares of the time on CPU. On a machine with more runnable processes
 * than cores, a process that wakes its peer with a socket write is often descheduled inside that write, and the
 * sampler charges the wait to the write: those frames are reported apart, not as work.
 */
export function summarizeProfile(profile: CpuProfile, top = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let idle = 0;
  let writes = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (frame.url === '' && OFF_CPU.has(frame.functionName)) {
      writes += us;
      continue;
    }
    const who = owner(frame.url, frame.functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${who}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const working = total - idle - writes;
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `    ${((us / working) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
      );
  return [
    `  CPU profile: ${(total / 1000).toFixed(0)} ms sampled: idle ${(idle / 1000).toFixed(0)} ms, in socket writes ` +
      `${(writes / 1000).toFixed(0)} ms (mostly descheduled after waking a peer), working ${(working / 1000).toFixed(0)} ms`,
    '  self time by package / module (share of working time):',
    ...rows(byOwner),
    '  self time by function:',
    ...rows(byFunction),
  ];
}

/**
 * Inclusive (self + callees) time of the frames whose `function package` text contains each pattern, counting a
 * frame only once under a matching ancestor. Only the synchronous part of an async function is its subtree.
 */
export function inclusiveTimes(profile: CpuProfile, patterns: string[]): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const idle = [...self]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, us]) => a + us, 0);
  const busy = [...self.values()].reduce((a, b) => a + b, 0) - idle;
  const subtree = new Map<number, number>();
  const total = (id: number): number => {
    const known = subtree.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const sum = (self.get(id) ?? 0) + (node?.children ?? []).reduce((a, child) => a + total(child), 0);
    subtree.set(id, sum);
    return sum;
  };
  const label = (id: number) => {
    const frame = byId.get(id)?.callFrame;
    return frame === undefined ? '' : `${frame.functionName || '(anonymous)'} ${owner(frame.url, frame.functionName)}`;
  };
  const root = profile.nodes[0]?.id;
  return patterns.map((pattern) => {
    let us = 0;
    const walk = (id: number): void => {
      if (label(id).includes(pattern)) {
        us += total(id);
        return;
      }
      for (const child of byId.get(id)?.children ?? []) walk(child);
    };
    if (root !== undefined) walk(root);
    return `    ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${pattern}`;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, second] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node dist/bench/cpu-profile.js <file.cpuprofile> [rows | "pattern,pattern,…"]');
    process.exitCode = 2;
  } else {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    if (second !== undefined && !/^\d+$/.test(second)) {
      console.log('  inclusive time (share of busy time):');
      for (const line of inclusiveTimes(profile, second.split(','))) console.log(line);
    } else {
      for (const line of summarizeProfile(profile, Number(second ?? 25))) console.log(line);
    }
  }
}
