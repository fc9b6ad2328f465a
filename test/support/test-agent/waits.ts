/** Waits on the agent's logs (requests, aborts): until a log holds n records, or a timeout that says what it got. */
import type { AgentRequestRecord } from './types.js';

export interface AgentLog {
  records: readonly AgentRequestRecord[];
  /** Told of each record added to the log. */
  listeners: Set<(r: AgentRequestRecord) => void>;
  /** The log's records, in the rejection's words: "generate requests", "aborted requests". */
  noun: string;
}

export function waitForLog(log: AgentLog, url: string, n: number, timeoutMs: number, note = ''): Promise<void> {
  if (log.records.length >= n) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      log.listeners.delete(check);
    };
    const check = (): void => {
      if (log.records.length < n) return;
      stop();
      resolve();
    };
    const timer = setTimeout(() => {
      stop();
      const got = log.records.length;
      reject(new Error(`ollama-agent ${url}: expected ${n} ${log.noun} within ${timeoutMs} ms, got ${got}${note}`));
    }, timeoutMs);
    log.listeners.add(check);
  });
}
