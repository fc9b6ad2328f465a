import type { Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';

export const CONNECT_TIMEOUT_CODE = 'ECONNTIMEOUT';

/**
 * Makes every new socket of `agent` fail if the TCP connection is not up within `timeoutMs`: a machine that
 * drops packets must not hold a task for the whole task timeout.
 */
export function withConnectTimeout<A extends HttpAgent>(agent: A, timeoutMs: number): A {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = create(options, callback) as Socket | null | undefined;
    if (socket?.connecting === true) {
      const timer = setTimeout(() => {
        const error = Object.assign(new Error(`connect timeout after ${timeoutMs} ms`), { code: CONNECT_TIMEOUT_CODE });
        socket.destroy(error);
      }, timeoutMs);
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    }
    return socket;
  };
  return agent;
}
