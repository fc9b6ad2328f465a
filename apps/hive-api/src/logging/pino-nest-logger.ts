import type { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { currentRequestId } from './request-context.js';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger interface over the root pino logger: every Nest `Logger` of the app writes JSON lines through it,
 * start-up lines (connection retries included) as well as those written while serving a request, which carry that
 * request's `request_id`.
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
   * Nest passes the context as the last string argument, and a stack before it for errors. A plain object first
   * carries fields and the message follows it: `logger.warn({ agentId }, 'message')`, so a log query finds them.
   */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const params = context === undefined ? rest : rest.slice(0, -1);
    const requestId = currentRequestId();
    const base = {
      ...(requestId === undefined ? {} : { request_id: requestId }),
      ...(context === undefined ? {} : { context }),
    };
    if (message instanceof Error) {
      this.pino[level]({ ...base, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const text = typeof params[0] === 'string' ? params[0] : undefined;
      this.pino[level]({ ...base, ...message }, text);
    } else {
      const stack = typeof params[0] === 'string' ? params[0] : undefined;
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      this.pino[level](stack === undefined ? base : { ...base, stack }, text);
    }
  }
}
