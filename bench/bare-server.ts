/**
 * The reference of the benchmark's HTTP phase: a bare node:http server in a process of its own, answering
 * `GET /health` with the same body as Hive's liveness probe (`{"status":"ok"}`) and nothing else. What Hive serves
 * beside it, in the same run, is the cost of its HTTP stack. Prints `listening <port>` once ready.
 */
import { createServer } from 'node:http';

const BODY = JSON.stringify({ status: 'ok' });

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(BODY),
    });
    res.end(BODY);
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
