/**
 * A service's return type as it arrives in JSON: dates become ISO-8601 strings. Response DTOs implement
 * `Serialized<View>`, so a field added to a view fails to compile until its documentation follows.
 */
export type Serialized<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Serialized<U>[]
    : T extends object
      ? { [K in keyof T]: Serialized<T[K]> }
      : T;
