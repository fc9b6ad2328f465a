/** A minimal JSON value that a JSON schema accepts: what a model constrained by `format` would at least produce. */
import { isRecord } from './http.js';

type Schema = Record<string, unknown>;

/** Follows a local `$ref` (`#/$defs/X`, `#/definitions/X`), as Pydantic and zod write them. */
function resolveRef(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const key of ref.slice(2).split('/')) target = isRecord(target) ? target[key] : undefined;
  return isRecord(target) ? target : {};
}

/** The first type named, skipping 'null' when there is another. */
function typeOf(schema: Schema): unknown {
  const { type } = schema;
  if (!Array.isArray(type)) return type ?? (isRecord(schema.properties) ? 'object' : undefined);
  return type.find((t) => t !== 'null') ?? type[0];
}

function instanceOf(raw: unknown, root: Schema, depth: number): unknown {
  if (!isRecord(raw) || depth > 32) return null; // a recursive schema stops somewhere
  const schema = resolveRef(raw, root);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as unknown;
  const choices = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (Array.isArray(choices) && choices.length > 0) return instanceOf(choices[0], root, depth + 1);
  switch (typeOf(schema)) {
    case 'object': {
      const properties = isRecord(schema.properties) ? schema.properties : {};
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, instanceOf(v, root, depth + 1)]));
    }
    case 'array': {
      const count = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length: count }, () => instanceOf(schema.items, root, depth + 1));
    }
    case 'string':
      return 'x'.repeat(typeof schema.minLength === 'number' ? Math.max(schema.minLength, 1) : 1);
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(Math.ceil(schema.minimum), 1) : 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/**
 * Every property (required or not) by its type: string 'x', number 1, boolean true, array [] (or minItems
 * instances of items), nested objects alike; const and the first enum value win over the type.
 */
export function schemaInstance(schema: Schema): unknown {
  return instanceOf(schema, schema, 0);
}
