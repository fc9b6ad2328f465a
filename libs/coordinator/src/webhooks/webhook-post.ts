import { describeError } from '@hive/database';

/** How much of a receiver's answer is read (and thrown away) before the connection is let go. */
const MAX_ANSWER_BYTES = 4 * 1024;
/** An error text stored with the delivery stays short. */
const MAX_ERROR_LENGTH = 300;

/** What one attempt came to: a 2xx, a failure to retry (a status, or none when no answer came), or cut by shutdown. */
export type WebhookAttempt =
  | { kind: 'delivered'; status: number }
  | { kind: 'failed'; status: number | null; error: string }
  | { kind: 'interrupted' };

export interface PostOptions {
  timeoutMs: number;
  /** Aborted when the replica stops waiting for its sends (shutdown). */
  signal: AbortSignal;
}

/**
 * POSTs one webhook: no redirect is followed (a 3xx is a failure, so a receiver cannot send Hive to a host the
 * allowlist never checked), the whole exchange is bounded by `timeoutMs`, and at most a few KB of the answer are read.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, signal }: PostOptions,
): Promise<WebhookAttempt> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]),
    });
    await discard(res);
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
    const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
    return { kind: 'failed', status: res.status, error: `HTTP ${res.status}${redirect}` };
  } catch (error) {
    if (signal.aborted) return { kind: 'interrupted' };
    return { kind: 'failed', status: null, error: describeFailure(error, timeoutMs) };
  }
}

/** Reads up to MAX_ANSWER_BYTES of the answer and drops the rest: the status is all that counts. */
async function discard(res: Response): Promise<void> {
  if (res.body === null) return;
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  try {
    for (let read = 0; read < MAX_ANSWER_BYTES;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // a body that breaks off or outlasts the timeout changes nothing: the status has arrived
  }
}

/** The error's name, duck-typed: fetch's errors come from Node's own realm (not jest's, in the unit tests). */
const nameOf = (error: unknown): unknown =>
  typeof error === 'object' && error !== null ? (error as Error).name : undefined;

/** Why no answer came, in a line: a timeout, or the network error under fetch's "fetch failed". */
export function describeFailure(error: unknown, timeoutMs: number): string {
  if (nameOf(error) === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = nameOf(error) === 'TypeError' ? ((error as Error).cause ?? error) : error;
  const text = describeError(cause);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
