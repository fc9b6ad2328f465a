import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';

/** Unknown fields are refused; DTOs get their defaults and types. */
export const VALIDATION: ValidationPipeOptions = { whitelist: true, forbidNonWhitelisted: true, transform: true };

/**
 * A DTO's common case checked by hand: the DTO when the value is certainly valid, else undefined (and the value
 * goes through class-validator, which decides and words the 400). It may refuse more than the decorators, never
 * less; its spec holds it to that against the decorators.
 */
export type FastPath<T = unknown> = (value: unknown) => T | undefined;

/**
 * The global ValidationPipe with fast paths for the hottest DTOs: class-transformer and class-validator cost tens
 * of microseconds per task submitted, a shape check one. Every value a fast path does not vouch for, and every
 * other DTO, is validated as before, so every 400 keeps its wording.
 */
export class FastPathValidationPipe extends ValidationPipe {
  constructor(
    options: ValidationPipeOptions,
    private readonly fastPaths: ReadonlyMap<ArgumentMetadata['metatype'], FastPath>,
  ) {
    super(options);
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = this.fastPaths.get(metadata.metatype)?.(value);
    return dto === undefined ? super.transform(value, metadata) : Promise.resolve(dto);
  }
}
