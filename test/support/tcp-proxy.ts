import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * forward: a transparent pipe. refuse: the server is gone (open connections are reset, new ones reset at once).
 * hang: the network stalls (open connections stop moving data, new ones are accepted and left waiting); switching
 * back to forward lets everything that waited through, like a partition that heals.
 */
export type ProxyMode = 'forward' | 'refuse' | 'hang';

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

interface Link {
  readonly client: Socket;
  upstream: Socket | undefined;
}

/** A TCP proxy on 127.0.0.1 in front of `target`, to make a server unreachable for one client and bring it back. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let mode: ProxyMode = 'forward';

  const drop = (link: Link): void => {
    links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  };
  const flow = (link: Link): void => {
    if (link.upstream === undefined) {
      link.upstream = connect(target.port, target.host);
      link.upstream.on('error', () => drop(link)).on('close', () => drop(link));
    }
    // pipe() resumes a paused source, so a stalled link picks up where it stopped.
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  };
  const stall = (link: Link): void => {
    link.client.unpipe();
    link.upstream?.unpipe();
    link.client.pause();
    link.upstream?.pause();
  };

  const server = createServer((client) => {
    if (mode === 'refuse') return void client.resetAndDestroy();
    const link: Link = { client, upstream: undefined };
    links.add(link);
    client.on('error', () => drop(link)).on('close', () => drop(link));
    if (mode === 'forward') flow(link);
    else client.pause(); // hang: accepted, nothing answers
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy is not listening on a TCP port');

  return {
    port: address.port,
    get mode() {
      return mode;
    },
    rewrite(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(address.port);
      return parsed.toString();
    },
    setMode(next) {
      if (next === mode) return;
      mode = next;
      for (const link of [...links]) {
        if (next === 'refuse') {
          link.client.resetAndDestroy();
          link.upstream?.resetAndDestroy();
          links.delete(link);
        } else if (next === 'hang') {
          stall(link);
        } else {
          flow(link);
        }
      }
    },
    async close() {
      for (const link of [...links]) drop(link);
      server.close();
      await once(server, 'close');
    },
  };
}
