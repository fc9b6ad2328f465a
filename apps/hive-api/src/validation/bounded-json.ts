import { registerDecorator, type ValidationOptions } from 'class-validator';

export interface JsonBounds {
  maxDepth: number;
  maxBytes: number;
}

/** Depth of nested objects and arrays; stops counting past `limit` so a hostile value costs little. */
function depth(value: unknown, limit: number, level = 0): number {
  if (value === null || typeof value !== 'object' || level > limit) return level;
  let deepest = level + 1;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depth(child, limit, level + 1));
    if (deepest > limit) break;
  }
  return deepest;
}

/** Whether a value is a JSON object no deeper than `maxDepth` and no larger than `maxBytes` once serialised. */
export function isBoundedJsonObject(value: unknown, bounds: JsonBounds): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    depth(value, bounds.maxDepth) <= bounds.maxDepth &&
    (bounds.maxBytes === Infinity || Buffer.byteLength(JSON.stringify(value), 'utf8') <= bounds.maxBytes)
  );
}

/** A JSON object no deeper than `maxDepth` and no larger than `maxBytes` once serialised. */
export function BoundedJsonObject(bounds: JsonBounds, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'boundedJsonObject',
      target: target.constructor,
      propertyName: String(propertyKey),
      options: {
        message: `$property must be a JSON object at most ${bounds.maxDepth} levels deep and ${bounds.maxBytes} bytes long`,
        ...options,
      },
      validator: { validate: (value: unknown) => isBoundedJsonObject(value, bounds) },
    });
}
