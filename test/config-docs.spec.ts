import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { envSchema } from '@hive/config';
import { ROOT } from './support/dockerfile.js';
import { SCHEMA_NAMES } from './support/production-env.js';
import { envAssignments } from './support/yaml-access.js';

/**
 * The documentation of the configuration stays true: `.env.example` and README.md's configuration table list
 * exactly the variables the schema reads (no missing one, no stale one), and `.env.example` states the defaults.
 */
function read(file: string): string {
  const path = resolve(ROOT, file);
  if (!existsSync(path)) throw new Error(`${file} is missing: it must document every variable of the env schema`);
  return readFileSync(path, 'utf8');
}

/** The section under the heading that starts with `title`, up to the next heading as high (code blocks skipped). */
function section(markdown: string, title: string): string {
  let fenced = false;
  const lines = markdown.split('\n').map((text) => {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    const heading = fenced ? undefined : /^(#{1,6})\s+(.*)$/.exec(text);
    return { text, depth: heading?.[1]?.length, title: heading?.[2] ?? '' };
  });
  const start = lines.findIndex((l) => l.depth !== undefined && l.title.toLowerCase().startsWith(title.toLowerCase()));
  const depth = lines[start]?.depth;
  if (depth === undefined) throw new Error(`README.md has no "${title}" section`);
  const end = lines.findIndex((l, i) => i > start && l.depth !== undefined && l.depth <= depth);
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.text)
    .join('\n');
}

/** Names in the first column of a Markdown table, written as `NAME`. */
function tableNames(markdown: string): string[] {
  return markdown
    .split('\n')
    .map((line) => /^\|\s*`([A-Z][A-Z0-9_]*)`/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

const duplicates = (names: string[]): string[] => names.filter((n, i) => names.indexOf(n) !== i);

describe('configuration documentation', () => {
  it('reads the schema names', () => {
    expect(SCHEMA_NAMES).toContain('DATABASE_URL');
    expect(SCHEMA_NAMES.length).toBeGreaterThan(20);
  });

  it('.env.example sets every schema variable once, and no other', () => {
    const names = envAssignments(read('.env.example')).map(([name]) => name);
    expect(duplicates(names)).toEqual([]);
    expect([...names].sort()).toEqual(SCHEMA_NAMES);
  });

  it('.env.example gives each variable its default', () => {
    const example = Object.fromEntries(envAssignments(read('.env.example')));
    expect(envSchema.parse(example)).toEqual(envSchema.parse({}));
  });

  it('README.md documents every schema variable in its configuration table, and no other', () => {
    const names = tableNames(section(read('README.md'), 'Configuration'));
    expect(duplicates(names)).toEqual([]);
    expect([...names].sort()).toEqual(SCHEMA_NAMES);
  });
});
