/**
 * The part of the (Fastify) reply the probe controllers use. They answer a failed check with 503 and the check's
 * own body by setting the status (`@Res({ passthrough: true })`) instead of throwing: an exception would go through
 * the app's exception filter, which reshapes every error into `{statusCode, error, message}` and drops the details
 * a probe exists to give.
 */
export interface StatusSetter {
  status(code: number): unknown;
}

export const SERVICE_UNAVAILABLE = 503;
