import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { spawnHive, type HiveProcess } from './support/hive-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { LEVEL, level, message, stopHiveProcess } from './support/process-control.js';
import { waitUntil } from './support/poll.js';

/** Given, so that Hive does not create one in ./.hive (the working directory of the tests). */
const ADMIN_KEY = 'shutdown-suite-admin-key-0123456789abcdef';

/** SIGTERM (what Kubernetes and docker stop send) ends Hive cleanly: exit 0, connections closed, nothing in error. */
describe('SIGTERM on a running process (real process)', () => {
  let db: TestDatabase | undefined;
  let hive: HiveProcess | undefined;

  afterAll(async () => {
    await stopHiveProcess(hive);
    await db?.drop();
  });

  it('exits 0, logs that the database connections closed, and logs no error', async () => {
    db = await createTestDatabase();
    hive = await spawnHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: ADMIN_KEY });
    await hive.waitUntilServing('/health');
    const root = await fetch(`${hive.url}/`);
    expect(root.status).toBe(200);
    await root.arrayBuffer();

    hive.kill('SIGTERM');
    await expect(hive.exited).resolves.toEqual({ code: 0, signal: null });

    const logs = hive.logs();
    expect(logs.filter((l) => level(l) >= LEVEL.error)).toEqual([]);
    expect(logs.filter((l) => message(l) === 'Database connections closed')).toHaveLength(1);
    // Every line the process wrote is a JSON log line (nothing printed around the logger).
    expect(logs).toHaveLength(hive.lines.length);
  });
});

/** A raw keep-alive connection to the process, collecting what it answers. */
async function openConnection(
  url: string,
): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { socket, received: () => text, closed: once(socket, 'close') };
}

describe('SIGTERM with connections open (real process)', () => {
  let db: TestDatabase | undefined;
  let hive: HiveProcess | undefined;

  afterAll(async () => {
    await stopHiveProcess(hive);
    await db?.drop();
  });

  it('closes idle keep-alive connections, answers the request in flight, and exits within SHUTDOWN_GRACE_MS', async () => {
    const graceMs = 5_000; // a readiness grace of 1 s
    db = await createTestDatabase();
    hive = await spawnHive({ DATABASE_URL: db.url, HIVE_ADMIN_API_KEY: ADMIN_KEY, SHUTDOWN_GRACE_MS: String(graceMs) });
    await hive.waitUntilServing('/health');
    const idle = await openConnection(hive.url);
    idle.socket.write('GET /health HTTP/1.1\r\nHost: hive\r\nConnection: keep-alive\r\n\r\n');
    // A request whose body is still arriving when the server starts to close.
    const body = JSON.stringify({ type: 'nobody-serves-this' });
    const inFlight = await openConnection(hive.url);
    inFlight.socket.write(
      `POST /api/tasks HTTP/1.1\r\nHost: hive\r\nX-API-Key: ${ADMIN_KEY}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body.slice(0, 5)}`,
    );
    await waitUntil(() => idle.received().includes('"status":"ok"'), { describe: 'the answer to GET /health' });

    const signalled = performance.now();
    hive.kill('SIGTERM');
    await idle.closed; // the HTTP server is closing: the idle connection went first
    inFlight.socket.write(body.slice(5));
    await inFlight.closed;
    const answer = inFlight.received();
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('nobody-serves-this');
    await expect(hive.exited).resolves.toEqual({ code: 0, signal: null });
    expect(performance.now() - signalled).toBeLessThan(graceMs);
  });
});
