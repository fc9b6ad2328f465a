/**
 * Checks Hive's answers against the OpenAPI document it serves: the status must be one the document declares for
 * the operation, the content type one it declares for that status, and the body must validate against that
 * response's schema ($refs resolved). Objects the document describes property by property are closed here (the
 * schemas do not say `additionalProperties: false`; Nest never writes it), so a field the server sends without
 * documenting it fails as surely as a documented field it does not send.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIV3 } from 'openapi-types';

export type Method = 'get' | 'post' | 'patch' | 'delete';
const METHODS: readonly Method[] = ['get', 'post', 'patch', 'delete'];

/** What a check needs of an answer; fetch's Response and supertest's both give it. */
export interface Answer {
  status: number;
  contentType: string | null;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: unknown;
}

/** Sets additionalProperties: false wherever an object lists its properties and says nothing about others. */
function closeObjects(schema: unknown, seen = new Set<unknown>()): void {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const node = schema as Record<string, unknown>;
  if (node.properties !== undefined && node.additionalProperties === undefined) node.additionalProperties = false;
  for (const child of Object.values(node)) closeObjects(child, seen);
}

export class ResponseContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  /** `METHOD /template status` of every answer checked so far. */
  readonly checked = new Set<string>();

  private constructor(
    readonly document: OpenAPIV3.Document,
    private readonly resolved: OpenAPIV3.Document,
  ) {
    addFormats.default(this.ajv);
  }

  /** The document `baseUrl` serves at /api/docs-json (no key: it is open). */
  static async load(baseUrl: string): Promise<ResponseContract> {
    const res = await fetch(`${baseUrl}/api/docs-json`);
    if (res.status !== 200) throw new Error(`GET /api/docs-json answered ${res.status}`);
    return ResponseContract.of((await res.json()) as OpenAPIV3.Document);
  }

  static async of(document: OpenAPIV3.Document): Promise<ResponseContract> {
    const resolved = (await SwaggerParser.dereference(structuredClone(document))) as OpenAPIV3.Document;
    closeObjects(resolved);
    return new ResponseContract(document, resolved);
  }

  /** Every operation of the document, as `METHOD /template`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([template, item]) =>
      METHODS.filter((m) => item?.[m] !== undefined).map((m) => `${m.toUpperCase()} ${template}`),
    );
  }

  /** Throws, saying why, unless the document declares `answer` for this operation. */
  check(method: Method, template: string, answer: Answer): void {
    const where = `${method.toUpperCase()} ${template}`;
    const operation = this.resolved.paths[template]?.[method];
    if (operation === undefined) throw new Error(`the document has no operation ${where}`);
    const response = operation.responses[String(answer.status)] as OpenAPIV3.ResponseObject | undefined;
    if (response === undefined) {
      throw new Error(
        `${where} answered ${answer.status}, a status the document does not declare (${Object.keys(operation.responses).join(', ')})`,
      );
    }
    const declared = Object.keys(response.content ?? {});
    const mediaType = declared.find((type) => answer.contentType?.split(';')[0]?.trim() === type);
    if (mediaType === undefined) {
      const expected = declared.join(', ') || 'no body';
      throw new Error(
        `${where} ${answer.status} came as ${answer.contentType ?? 'no content type'}; the document declares ${expected}`,
      );
    }
    const key = `${where} ${answer.status} ${mediaType}`;
    let validate = this.validators.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(response.content?.[mediaType]?.schema ?? {});
      this.validators.set(key, validate);
    }
    if (!validate(answer.body)) {
      const errors = this.ajv.errorsText(validate.errors, { dataVar: 'body', separator: '\n  ' });
      throw new Error(
        `${where} ${answer.status}: the body does not match the document:\n  ${errors}\nbody: ${JSON.stringify(answer.body)}`,
      );
    }
    this.checked.add(`${where} ${answer.status}`);
  }
}

/** Whether a content type is one JSON document (not NDJSON, a stream of them, which is read as text). */
const isJson = (contentType: string | null): boolean => {
  const media = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || media.endsWith('+json');
};

/** Reads a fetch Response into an Answer (the body consumed: pass a clone when the caller still needs it). */
export async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  return { status: res.status, contentType, body: isJson(contentType) ? (JSON.parse(text) as unknown) : text };
}
