import type { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger interface over the root pino logger, used while the app is being built (before nestjs-pino's
 * request-aware logger exists), so that start-up lines — connection retries included — are JSON like the rest.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /**
   * Nest passes the context as the last string argument, and a stack before it for errors. As with nestjs-pino
   * (which takes over once the app is built), a plain object first carries fields and the message follows it:
   * `logger.warn({ agentId }, 'message')`.
   */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const params = context === undefined ? rest : rest.slice(0, -1);
    const withContext = (fields: object) => (context === undefined ? fields : { ...fields, context });
    if (message instanceof Error) {
      this.pino[level](withContext({ err: message }), message.message);
    } else if (message !== null && typeof message === 'object') {
      const text = typeof params[0] === 'string' ? params[0] : undefined;
      this.pino[level](withContext(message), text);
    } else {
      const stack = typeof params[0] === 'string' ? params[0] : undefined;
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      this.pino[level](withContext(stack === undefined ? {} : { stack }), text);
    }
  }
}
