import { pino, type Logger as PinoLogger } from 'pino';
import type { HiveConfig } from '@hive/config';

/** Header and field names whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.key',
  '*.api_key',
  '*.apiKey',
];

/**
 * The process' one pino logger: JSON lines, pretty only when developing. Nest's loggers (PinoNestLogger) and the
 * request log (request-log.ts) both write through it.
 */
export function createRootLogger(config: Pick<HiveConfig, 'logLevel' | 'nodeEnv'>): PinoLogger {
  return pino({
    level: config.logLevel,
    base: { service: 'hive' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(config.nodeEnv === 'development'
      ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}

/** The configuration fit for the start-up log line: every secret replaced. */
export function redactConfig(config: HiveConfig): Record<string, unknown> {
  const hidden = (value: string | undefined) => (value === undefined ? undefined : '[redacted]');
  return {
    ...config,
    database: { ...config.database, url: redactUrl(config.database.url) },
    security: {
      ...config.security,
      adminApiKey: hidden(config.security.adminApiKey),
      metricsToken: hidden(config.security.metricsToken),
      secretKey: hidden(config.security.secretKey),
    },
  };
}

/** A DATABASE_URL fit for a log line: the password replaced. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[unparseable]';
  }
}
