import type { FastifyInstance } from 'fastify';

/**
 * Once the server closes (after the readiness grace), every answer says `Connection: close`. Closing the server
 * ends the idle kept-alive connections, but one with a request in flight would otherwise stay open after its answer
 * until Node's keep-alive timeout, and hold the process past its shutdown budget.
 */
export function closeConnectionsOnceClosing(instance: FastifyInstance): void {
  let closing = false;
  instance.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  instance.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
}
