/**
 * Hive's OpenAPI artifacts: openapi.json, built from the controllers alone by the compiled write-openapi.js (no
 * database), and the typed client's types, test/generated/hive-api.d.ts, generated from it by openapi-typescript.
 *
 *   node test/support/openapi-artifacts.ts write   regenerates both (npm run openapi)
 *   node test/support/openapi-artifacts.ts check   fails when a committed one differs from what the code gives, or
 *                                                  when the document is not valid OpenAPI (npm run openapi:check)
 *
 * Both modes generate into a temporary directory the same way, so what `check` compares is exactly what `write`
 * writes. It needs a fresh build (the npm scripts build first). Run by Node directly (type stripping), so it imports
 * packages only. It is a development tool: the production image has neither it nor its packages.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';

const ROOT = resolve(import.meta.dirname, '../..');
const WRITER = join(ROOT, 'dist/apps/hive-api/src/openapi/write-openapi.js');
const CLIENT_GENERATOR = join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
const DOCUMENT = 'openapi.json';
const CLIENT_TYPES = 'test/generated/hive-api.d.ts';
const MAX_LISTED = 20;

interface Generated {
  document: string;
  clientTypes: string;
}

function generate(dir: string): Generated {
  const generated = { document: join(dir, 'openapi.json'), clientTypes: join(dir, 'hive-api.d.ts') };
  if (!existsSync(WRITER)) throw new Error(`${WRITER} is missing: run \`npm run build\` first`);
  const quiet = { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] as ('ignore' | 'inherit')[] };
  execFileSync(process.execPath, [WRITER, generated.document], quiet);
  // Without --default-non-nullable false, a request field with a default (priority, max_concurrent) would be typed
  // as required.
  const options = ['--default-non-nullable', 'false', '--output', generated.clientTypes];
  execFileSync(process.execPath, [CLIENT_GENERATOR, generated.document, ...options], quiet);
  return generated;
}

/** JSON pointers where two documents differ: `+` only in the regenerated one, `-` only in the committed one. */
function documentDifferences(committed: unknown, regenerated: unknown, pointer = '', found: string[] = []): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(committed) && isObject(regenerated)) {
    const keys = [...new Set([...Object.keys(committed), ...Object.keys(regenerated)])].sort();
    for (const key of keys) {
      const child = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (!(key in committed)) found.push(`+ ${child}`);
      else if (!(key in regenerated)) found.push(`- ${child}`);
      else documentDifferences(committed[key], regenerated[key], child, found);
    }
  } else if (JSON.stringify(committed) !== JSON.stringify(regenerated)) {
    found.push(`~ ${pointer || '/'}`);
  }
  return found;
}

/** Where two texts first part, for files whose structure says little (the generated types). */
function textDifference(committed: string, regenerated: string): string[] {
  const a = committed.split('\n');
  const b = regenerated.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return [
    `committed ${a.length} lines, regenerated ${b.length}; first difference at line ${at + 1}:`,
    `- ${a[at] ?? '(end of file)'}`,
    `+ ${b[at] ?? '(end of file)'}`,
  ];
}

function drift(generated: Generated): string[] {
  const problems: string[] = [];
  const committedDocument = join(ROOT, DOCUMENT);
  if (!existsSync(committedDocument)) {
    problems.push(`${DOCUMENT} is missing`);
  } else {
    const differences = documentDifferences(
      JSON.parse(readFileSync(committedDocument, 'utf8')),
      JSON.parse(readFileSync(generated.document, 'utf8')),
    );
    const bytesDiffer = readFileSync(committedDocument, 'utf8') !== readFileSync(generated.document, 'utf8');
    if (differences.length > 0 || bytesDiffer) {
      problems.push(
        `${DOCUMENT} differs from what the controllers describe (${differences.length || 'formatting'} difference(s)):`,
      );
      problems.push(...differences.slice(0, MAX_LISTED).map((d) => `  ${d}`));
      if (differences.length > MAX_LISTED) problems.push(`  … and ${differences.length - MAX_LISTED} more`);
    }
  }
  const committedTypes = join(ROOT, CLIENT_TYPES);
  if (!existsSync(committedTypes)) {
    problems.push(`${CLIENT_TYPES} is missing`);
  } else {
    const [committed, regenerated] = [
      readFileSync(committedTypes, 'utf8'),
      readFileSync(generated.clientTypes, 'utf8'),
    ];
    if (committed !== regenerated) {
      problems.push(`${CLIENT_TYPES} differs from what openapi-typescript makes of the document:`);
      problems.push(...textDifference(committed, regenerated).map((d) => `  ${d}`));
    }
  }
  return problems;
}

async function main(mode: string | undefined): Promise<number> {
  if (mode !== 'write' && mode !== 'check') {
    console.error('usage: node test/support/openapi-artifacts.ts write|check');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hive-openapi-'));
  try {
    const generated = generate(dir);
    // Validates against the OpenAPI 3 schema and resolves every $ref (a library's hand-written one included).
    await SwaggerParser.validate(generated.document);
    if (mode === 'write') {
      copyFileSync(generated.document, join(ROOT, DOCUMENT));
      copyFileSync(generated.clientTypes, join(ROOT, CLIENT_TYPES));
      console.log(`Wrote ${DOCUMENT} (valid OpenAPI) and ${CLIENT_TYPES}`);
      return 0;
    }
    const problems = drift(generated);
    if (problems.length === 0) {
      console.log(`${DOCUMENT} is valid OpenAPI and, with ${CLIENT_TYPES}, matches the code`);
      return 0;
    }
    console.error(['OpenAPI drift:', ...problems, 'Run `npm run openapi` and commit the result.'].join('\n'));
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv[2]).catch((error: unknown) => {
  console.error(`OpenAPI ${process.argv[2] ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
