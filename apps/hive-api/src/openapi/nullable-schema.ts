import { getSchemaPath, type ApiPropertyOptions } from '@nestjs/swagger';

type Schemas = NonNullable<ApiPropertyOptions['oneOf']>;

/**
 * JSON null in OpenAPI 3.0, which has no null type: a nullable type whose only value is null. Validators that know
 * `nullable` only beside a `type` (ajv) read it right, unlike `nullable` beside a bare `$ref` or `oneOf`.
 */
export const NULL: Schemas[number] = { type: 'string', nullable: true, enum: [null] };

/** One of the named schemas, or null: for a property whose value is an object described elsewhere, when set. */
export function oneOfOrNull(...names: string[]): { oneOf: Schemas } {
  return { oneOf: [...names.map((name) => ({ $ref: getSchemaPath(name) })), NULL] };
}
