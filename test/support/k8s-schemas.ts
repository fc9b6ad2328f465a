import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './dockerfile.js';

/**
 * Kubernetes manifests checked against the API's schemas, in two ways, both from the kubernetes-models packages
 * (generated from the Kubernetes OpenAPI document and, for ServiceMonitor, the prometheus-operator CRD):
 *
 * - `validate()`: the JSON-schema validation the packages ship (required fields, types, enums, int-or-string...).
 *   It lets unknown fields through, as those schemas do not close their objects.
 * - the TypeScript types of the same packages, with excess-property checks: every object in the manifest is typed
 *   against its schema, so a misspelled or misplaced field anywhere (`readinesProbe`, `runAsNonRoot` in the wrong
 *   place) is a compile error, as `kubectl apply --validate=strict` would reject it.
 */
export const K8S_DIR = resolve(ROOT, 'docker/k8s');

export interface Manifest {
  readonly file: string;
  readonly index: number;
  readonly doc: Record<string, unknown> & { apiVersion: string; kind: string };
}

/** Every YAML document of docker/k8s/*.yaml, failing on a YAML error or a document without kind/apiVersion. */
export function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(K8S_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const docs = parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8'));
    if (!Array.isArray(docs)) throw new Error(`${file}: not YAML`);
    docs.forEach((parsed, index) => {
      if (parsed.errors.length > 0)
        throw new Error(`${file}#${index}: ${parsed.errors.map((e) => e.message).join('; ')}`);
      const doc: unknown = parsed.toJS();
      if (doc === null || doc === undefined) return; // an empty document (a trailing ---)
      const { apiVersion, kind } = doc as { apiVersion?: unknown; kind?: unknown };
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
        throw new Error(`${file}#${index} has no apiVersion/kind`);
      }
      manifests.push({ file, index, doc: doc as Manifest['doc'] });
    });
  }
  return manifests;
}

/** The kubernetes-models module of a kind: `kubernetes-models/apps/v1/Deployment`, `.../v1/Service`, or a CRD's. */
export function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/'))
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Runs the package's schema validation; resolves with the error message, or undefined when valid. */
export async function schemaError(manifest: Manifest): Promise<string | undefined> {
  const { apiVersion, kind, ...data } = manifest.doc;
  const module = (await import(modelModule(apiVersion, kind))) as Record<string, unknown>;
  const Model = module[kind] as ModelClass | undefined;
  if (Model === undefined) throw new Error(`${modelModule(apiVersion, kind)} exports no ${kind}`);
  const model = new Model(data) as { validate(): void; apiVersion?: unknown; kind?: unknown };
  if (model.apiVersion !== apiVersion || model.kind !== kind)
    throw new Error(`${kind} model has another apiVersion/kind`);
  try {
    model.validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Type-checks the manifests against the packages' types, with excess-property checks. Returns one message per
 * problem ("deployment.yaml#0: Object literal may only specify known properties..."), empty when all is well.
 */
export function strictTypeErrors(manifests: readonly Manifest[]): string[] {
  const fileName = join(ROOT, 'test', '__k8s-manifests__.mts');
  const source = manifests
    .map(({ doc }, i) => {
      const typeName = `I${doc.kind}`;
      return (
        `import type { ${typeName} as T${i} } from ${JSON.stringify(modelModule(doc.apiVersion, doc.kind))};\n` +
        `export const m${i}: T${i} = ${JSON.stringify(doc, null, 1)};\n`
      );
    })
    .join('');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  const program = ts.createProgram({ rootNames: [fileName], options, host });
  const lines = source.split('\n');
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    // Name the manifest the error is in: the nearest `export const mN` at or above the line.
    const owner = lines
      .slice(0, line + 1)
      .reverse()
      .find((l) => l.startsWith('export const m'));
    const index = Number(/^export const m(\d+)/.exec(owner ?? '')?.[1] ?? NaN);
    const manifest = manifests[index];
    const where =
      manifest === undefined ? `line ${line + 1}` : `${manifest.file}#${manifest.index} (${manifest.doc.kind})`;
    return `${where}: ${message} [${lines[line]?.trim() ?? ''}]`;
  });
}
