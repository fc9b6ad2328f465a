import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Honours a well-formed incoming x-request-id (so a trace spans services), else makes one; echoes it back. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** The request headers a log line may carry: none that can hold a credential. */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'x-forwarded-for', 'referer'];

interface SerializedRequest {
  id: unknown;
  method: string;
  url: string;
  remoteAddress?: string;
  headers: Record<string, unknown>;
}

/**
 * What a request contributes to its log lines. pino-http builds this for every request, logged or not (it becomes
 * the bindings of the request's child logger); keeping it small and free of credentials makes that, and the
 * redaction run over it, cheap.
 */
export function requestForLog(req: SerializedRequest): SerializedRequest {
  const headers: Record<string, unknown> = {};
  for (const name of LOGGED_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  return { id: req.id, method: req.method, url: req.url, remoteAddress: req.remoteAddress, headers };
}

/** nestjs-pino over the process' root logger: one JSON line per request, each with its request id. */
@Module({})
export class LoggingModule {
  static forRoot(rootLogger: PinoLogger): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: rootLogger,
            genReqId: requestId,
            customAttributeKeys: { reqId: 'request_id' },
            serializers: { req: requestForLog },
            // Probes and scrapes every few seconds would drown the log; their outcome is in the metrics.
            autoLogging: { ignore: (req) => /^\/(health|api\/metrics)(\/|\?|$)/.test(req.url ?? '') },
            customLogLevel: (_req, res, error) =>
              error !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
          },
        }),
      ],
    };
  }
}
