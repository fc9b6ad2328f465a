import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * Typed reads into parsed YAML/JSON: each one fails with the path it could not follow, so a missing or misplaced
 * field makes the test fail with a message that names it (rather than `undefined` slipping through).
 */
type Step = string | number;

export function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8')) as unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path`, or undefined when any step is missing. */
export function maybe(value: unknown, ...path: Step[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number') current = Array.isArray(current) ? (current[step] as unknown) : undefined;
    else current = isRecord(current) ? current[step] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

export function at(value: unknown, ...path: Step[]): unknown {
  const found = maybe(value, ...path);
  if (found === undefined) throw new Error(`missing: ${path.join('.')}`);
  return found;
}

export function str(value: unknown, ...path: Step[]): string {
  const found = at(value, ...path);
  if (typeof found !== 'string') throw new Error(`${path.join('.')} is not a string: ${JSON.stringify(found)}`);
  return found;
}

export function num(value: unknown, ...path: Step[]): number {
  const found = at(value, ...path);
  if (typeof found !== 'number') throw new Error(`${path.join('.')} is not a number: ${JSON.stringify(found)}`);
  return found;
}

export function rec(value: unknown, ...path: Step[]): Record<string, unknown> {
  const found = at(value, ...path);
  if (!isRecord(found)) throw new Error(`${path.join('.')} is not a mapping: ${JSON.stringify(found)}`);
  return found;
}

export function list(value: unknown, ...path: Step[]): unknown[] {
  const found = at(value, ...path);
  if (!Array.isArray(found)) throw new Error(`${path.join('.')} is not a list: ${JSON.stringify(found)}`);
  return found as unknown[];
}

/** A mapping whose values are all strings (ConfigMap data, Secret stringData). */
export function stringMap(value: unknown, ...path: Step[]): Record<string, string> {
  const found = rec(value, ...path);
  for (const [key, v] of Object.entries(found)) {
    if (typeof v !== 'string') throw new Error(`${[...path, key].join('.')} is not a string: ${JSON.stringify(v)}`);
  }
  return found as Record<string, string>;
}

/** `NAME=value` lines of an env file, in order (comments and blank lines skipped). */
export function envAssignments(text: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? '']);
}
