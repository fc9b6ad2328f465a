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
