import { ValidateIf } from 'class-validator';

/**
 * The property's other rules apply unless it is absent: unlike IsOptional, an explicit null is checked (and refused)
 * rather than let through to a NOT NULL column or a default that expects a value.
 */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object: unknown, value: unknown) => value !== undefined);
