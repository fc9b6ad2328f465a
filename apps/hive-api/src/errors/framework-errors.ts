import type { HttpException } from '@nestjs/common';

export const UNSUPPORTED_MEDIA_TYPE = 'Unsupported Media Type: send the body as JSON (Content-Type: application/json)';

/**
 * Hive's words for errors Fastify raises before a handler runs, by Fastify's error code (Nest turns a Fastify 4xx
 * into an HttpException whose cause is the original error).
 */
const MESSAGES: Record<string, string> = {
  // The message the 413 had under Express, as the API documents it.
  FST_ERR_CTP_BODY_TOO_LARGE: 'request entity too large',
  // A Content-Type that does not parse (the body parsers' own 415s say the same).
  FST_ERR_CTP_INVALID_MEDIA_TYPE: UNSUPPORTED_MEDIA_TYPE,
};

export function frameworkMessage(exception: HttpException): string | undefined {
  const code = (exception.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? MESSAGES[code] : undefined;
}

/** A 4xx that did not come as an HttpException (a stream error carrying its status, say). */
export function clientErrorStatus(exception: unknown): number | undefined {
  const status = (exception as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
