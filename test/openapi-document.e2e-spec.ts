import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { buildOpenApiDocumentOffline } from '../apps/hive-api/src/openapi/offline-document.js';
import { canonicalJson } from '../apps/hive-api/src/openapi/canonical-json.js';
import { startHive, type RunningHive } from './support/hive-app.js';
import { ResponseContract, type Method } from './support/openapi-contract.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const COMMITTED = resolve(import.meta.dirname, '../openapi.json');
const API_KEY_SECURITY = [{ api_key: [] }, { bearer: [] }];

describe('the OpenAPI document and Swagger UI', () => {
  let db: TestDatabase;
  let hive: RunningHive;
  let served: OpenAPIV3.Document;

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url });
    const res = await fetch(`${hive.url}/api/docs-json`);
    expect(res.status).toBe(200);
    served = (await res.json()) as OpenAPIV3.Document;
  });
  afterAll(async () => {
    await hive.close();
    await db.drop();
  });

  it('serves at /api/docs-json, without a key, exactly the committed openapi.json', () => {
    expect(served).toStrictEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
    // Byte for byte too: the file is the served document in canonical form.
    expect(canonicalJson(served)).toBe(readFileSync(COMMITTED, 'utf8'));
  });

  it('is what the database-free build (npm run openapi) makes of the same controllers', async () => {
    const offline = JSON.parse(JSON.stringify(await buildOpenApiDocumentOffline())) as unknown;
    expect(offline).toStrictEqual(served);
  });

  it('is a valid OpenAPI 3 document whose references all resolve', async () => {
    const api = (await SwaggerParser.validate(structuredClone(served))) as OpenAPIV3.Document;
    expect(api.openapi).toMatch(/^3\./);
  });

  it('gives examples of answers that match their own schemas', async () => {
    const contract = await ResponseContract.of(served);
    let examples = 0;
    for (const [path, item] of Object.entries(served.paths)) {
      for (const method of ['get', 'post', 'patch', 'delete'] as const satisfies Method[]) {
        for (const [status, response] of Object.entries(item?.[method]?.responses ?? {})) {
          for (const [contentType, media] of Object.entries((response as OpenAPIV3.ResponseObject).content ?? {})) {
            if (media.example === undefined) continue;
            contract.check(method, path, { status: Number(status), contentType, body: media.example as unknown });
            examples++;
          }
        }
      }
    }
    expect(examples).toBeGreaterThan(50);
  });

  it("asks for an API key (header or bearer) on every /api and /v1 route but the metrics and Ollama's version, and on nothing else", () => {
    const schemes = Object.keys(served.components?.securitySchemes ?? {}).sort();
    expect(schemes).toEqual(['api_key', 'bearer', 'metrics_token']);
    const keyed = (path: string) => path.startsWith('/api/') || path.startsWith('/v1/');
    for (const [path, item] of Object.entries(served.paths)) {
      for (const method of ['get', 'post', 'patch', 'delete'] as const) {
        const operation = item?.[method];
        if (operation === undefined) continue;
        const where = `${method.toUpperCase()} ${path}`;
        if (path === '/api/metrics') expect([where, operation.security]).toEqual([where, [{}, { metrics_token: [] }]]);
        // Ollama clients ask for the version before anything else, without a key (as Ollama needs none).
        else if (where === 'GET /api/version') expect([where, operation.security]).toEqual([where, undefined]);
        else if (keyed(path)) expect([where, operation.security]).toEqual([where, API_KEY_SECURITY]);
        else expect([where, operation.security]).toEqual([where, undefined]);
      }
    }
    // The gateway's routes are covered by the rule above: both dialects are in the document.
    expect(Object.keys(served.paths)).toEqual(expect.arrayContaining(['/v1/chat/completions', '/api/chat']));
  });

  it('serves Swagger UI at /api/docs without a key, with every asset it loads', async () => {
    const page = await fetch(`${hive.url}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)=["'](\.\/docs\/[^"']+)["']/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual(
      expect.arrayContaining(['./docs/swagger-ui-bundle.js', './docs/swagger-ui-init.js', './docs/swagger-ui.css']),
    );
    for (const asset of assets) {
      const res = await fetch(new URL(asset, `${hive.url}/api/docs`));
      expect([asset, res.status]).toEqual([asset, 200]);
    }
    // The init script carries the document itself, so the UI needs no further request to show it.
    const init = await (await fetch(`${hive.url}/api/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"title": "Hive API"');
  });

  it("keeps helmet's policy on the UI, less upgrade-insecure-requests (which breaks it over plain HTTP)", async () => {
    const docs = (await fetch(`${hive.url}/api/docs`)).headers.get('content-security-policy') ?? '';
    expect(docs).toContain("default-src 'self'");
    expect(docs).toContain("script-src 'self'");
    expect(docs).not.toContain("'unsafe-eval'");
    expect(docs).not.toContain('upgrade-insecure-requests');
    // Everything else keeps the whole policy.
    for (const path of ['/', '/api/docs-json']) {
      const policy = (await fetch(`${hive.url}${path}`)).headers.get('content-security-policy') ?? '';
      expect([path, policy]).toEqual([path, expect.stringContaining('upgrade-insecure-requests')]);
    }
  });
});
