/**
 * Writes Hive's OpenAPI document, without a database, as canonical JSON:
 * `node dist/apps/hive-api/src/openapi/write-openapi.js [file]` (default openapi.json). `npm run openapi` runs it
 * and generates the typed client from the result (test/support/openapi-artifacts.ts).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocumentOffline } from './offline-document.js';
import { canonicalJson } from './canonical-json.js';

const target = resolve(process.argv[2] ?? 'openapi.json');
writeFileSync(target, canonicalJson(await buildOpenApiDocumentOffline()));
process.stdout.write(`OpenAPI document written to ${target}\n`);
