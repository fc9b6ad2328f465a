import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger } from 'pino';
import { REDACTED_PATHS } from '../../apps/hive-api/src/logging/root-logger.js';

export interface CapturedLogs {
  readonly logger: PinoLogger;
  /** Every JSON line written so far, parsed. */
  readonly lines: Record<string, unknown>[];
  readonly text: () => string;
}

/** A root logger like production's (same redaction), writing into memory so a test can read what was logged. */
export function captureLogs(level = 'info'): CapturedLogs {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const logger = pino(
    { level, base: { service: 'hive' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    sink,
  );
  return {
    logger,
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join('\n'),
  };
}
