import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A small reader of docker/Dockerfile, so that tests check (and run) what the image really does rather than a copy
 * of it: the stages, their instructions, the CMD, the ENV defaults, the HEALTHCHECK.
 */
export const ROOT = resolve(import.meta.dirname, '../..');
export const DOCKERFILE = resolve(ROOT, 'docker/Dockerfile');

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions in order, with `\` continuations joined and comments dropped (parser directives included). */
export function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    if (pending !== '' && /^\s*#/.test(line)) continue; // comments inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = (pending + line.trim()).trim();
    pending = '';
    const match = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (match === null) throw new Error(`unreadable Dockerfile line: ${full}`);
    result.push({ keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim() });
  }
  if (pending !== '') throw new Error('the Dockerfile ends inside a continued line');
  return result;
}

export function stages(text: string): Stage[] {
  const result: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args.replace(/^--platform=\S+\s+/, ''));
      if (match === null) throw new Error(`unreadable FROM: ${instruction.args}`);
      result.push({ from: match[1] ?? '', name: match[2], instructions: [] });
    } else {
      const current = result.at(-1);
      if (current === undefined) throw new Error(`${instruction.keyword} before the first FROM`);
      current.instructions.push(instruction);
    }
  }
  return result;
}

export function readDockerfile(): { text: string; stages: Stage[]; runtime: Stage } {
  const text = readFileSync(DOCKERFILE, 'utf8');
  const all = stages(text);
  const runtime = all.at(-1);
  if (runtime === undefined) throw new Error('docker/Dockerfile has no FROM');
  return { text, stages: all, runtime };
}

/** The instructions of one keyword in a stage. */
export function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The last instruction of one keyword (Docker keeps the last CMD, ENTRYPOINT, USER...). */
export function last(stage: Stage, keyword: string): string {
  const found = all(stage, keyword).at(-1);
  if (found === undefined) throw new Error(`the ${stage.name ?? 'final'} stage has no ${keyword}`);
  return found;
}

/** An exec-form argument list (`["node", "main.js"]`); the shell form is refused: signals would go to /bin/sh. */
export function execForm(args: string): string[] {
  if (!args.startsWith('[')) throw new Error(`not in exec form (JSON array): ${args}`);
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === 'string')) {
    throw new Error(`not a JSON array of strings: ${args}`);
  }
  return parsed;
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A 1`) of a stage, later ones winning. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    if (!args.includes('=')) {
      const [name = '', ...value] = args.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
      const value = m[2] ?? '';
      env[m[1] ?? ''] = /^["']/.test(value) ? value.slice(1, -1) : value;
    }
  }
  return env;
}

export interface Healthcheck {
  readonly options: Record<string, string>;
  readonly command: string[];
}

export function healthcheckOf(stage: Stage): Healthcheck {
  const match = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)$/s.exec(last(stage, 'HEALTHCHECK'));
  if (match === null) throw new Error('HEALTHCHECK is not "[--option=value ...] CMD [...]"');
  const options = Object.fromEntries(
    [...(match[1] ?? '').matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
  return { options, command: execForm(match[2] ?? '') };
}

/** Docker durations as used in HEALTHCHECK (`30s`, `1m30s`, `500ms`), in milliseconds. */
export function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = value;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? NaN);
    rest = rest.replace(m[0], '');
  }
  if (rest !== '' || value === '') throw new Error(`not a duration: ${value}`);
  return total;
}
