/**
 * The delivery phase's view of the agent's side: a pass-through TCP proxy in front of a test agent, in the
 * benchmark's process, that notes when each marked word of an answer left the agent (performance.now(), the clock of
 * the SSE readers and clients in the same process). The test agent has no hook per streamed piece; its bytes on the
 * wire are what it wrote, one piece per write. Hive is given the proxy's address as the agent's endpoint.
 *
 * Markers are words `t<task>w<k>`, unique per task and word. Only the agent → Hive direction is read (the prompts
 * going the other way carry the same words). Besides the first sight of every marker, the tap notes, per task, the
 * last chunk that carried `"done":true` after one of its markers on that connection: the end of the agent's answer
 * (the one JSON object of a non-streamed answer, the final line of a streamed one).
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** `t12w3`: task 12, word 3. Followed by a character that is not a digit, so a marker split by TCP is not misread. */
const MARKER = /t(\d+)w(\d+)(?=\D)/g;
const DONE = '"done":true';
/** The end of the previous chunk, scanned again with the next one (a marker or DONE may straddle the two). */
const TAIL = 32;

export const marker = (task: number, word: number): string => `t${task}w${word}`;

/** `words` marked words of task `task`, space-separated: a prompt the test agent echoes word by word. */
export const markedText = (task: number, words: number): string =>
  Array.from({ length: words }, (_, k) => marker(task, k)).join(' ');

/** The markers in `text`, in order. */
export const markersIn = (text: string): string[] => [...`${text} `.matchAll(MARKER)].map((m) => m[0]);

export interface AgentTap {
  /** The agent's endpoint as Hive should know it: the proxy. */
  readonly url: string;
  /** performance.now() when a marker first left the agent. */
  firstSeen(marker: string): number | undefined;
  /** performance.now() of the end of task `task`'s answer: the last chunk with "done":true after its markers. */
  endSeen(task: number): number | undefined;
  close(): Promise<void>;
}

export async function startAgentTap(agentUrl: string): Promise<AgentTap> {
  const target = new URL(agentUrl);
  const first = new Map<string, number>();
  const ends = new Map<number, number>();
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    // No Nagle: a piece is passed on at once, not held back until the previous one was acknowledged.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let tail = '';
    /** The task whose markers this connection carried last. */
    let task: number | undefined;
    upstream.on('data', (chunk: Buffer) => {
      const at = performance.now();
      client.write(chunk);
      // latin1: one character per byte, so the markers (ASCII) keep their offsets whatever else the chunk holds.
      const text = tail + chunk.toString('latin1');
      for (const m of text.matchAll(MARKER)) {
        // Seen already with the previous chunk when it ended (with the character after it) inside the tail.
        if (m.index + m[0].length < tail.length) continue;
        task = Number(m[1]);
        if (!first.has(m[0])) first.set(m[0], at);
      }
      for (let i = text.indexOf(DONE); i >= 0; i = text.indexOf(DONE, i + 1)) {
        if (i + DONE.length > tail.length && task !== undefined) ends.set(task, at);
      }
      tail = text.slice(-TAIL);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const drop = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop).on('end', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the agent tap is not listening on TCP');

  return {
    url: `http://127.0.0.1:${address.port}`,
    firstSeen: (m) => first.get(m),
    endSeen: (t) => ends.get(t),
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
