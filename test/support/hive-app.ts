import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, type HiveConfig } from '@hive/config';
import { createApp } from '../../apps/hive-api/src/create-app.js';
import { captureLogs, type CapturedLogs } from './log-capture.js';
import { TEST_ADMIN_KEY } from './test-keys.js';

export interface RunningHive {
  readonly app: NestFastifyApplication;
  readonly config: HiveConfig;
  readonly url: string;
  readonly logs: CapturedLogs;
  /** Shuts the app down (once: calling it again waits for the same shutdown). */
  close(): Promise<void>;
}

/**
 * Hive in this test process, built by the same `createApp` as main.ts, listening on an ephemeral port of
 * 127.0.0.1. `env` is the whole environment Hive sees (tests do not inherit the machine's); the admin key is
 * TEST_ADMIN_KEY unless `env` says otherwise.
 */
export async function startHive(env: Record<string, string>): Promise<RunningHive> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
    HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY,
    ...env,
  });
  const logs = captureLogs(config.logLevel);
  const app = await createApp(config, logs.logger);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('Hive is not listening on a TCP port');
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  return { app, config, url: `http://127.0.0.1:${address.port}`, logs, close };
}
