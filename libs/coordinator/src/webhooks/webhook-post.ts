import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { describeError } from '@hive/database';
import { isPublicAddress, PrivateAddressError, publicOnlyLookup, urlHost } from './public-address.js';

/** How much of a receiver's answer is read (and thrown away) before the connection is let go. */
const MAX_ANSWER_BYTES = 4 * 1024;
/** An error text stored with the delivery stays short. */
const MAX_ERROR_LENGTH = 300;

/** What one attempt came to: a 2xx, a failure to retry (a status, or none when no answer came), or cut by shutdown. */
export type PostOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'failed'; status: number | null; error: string }
  | { kind: 'interrupted' };

export interface PostOptions {
  timeoutMs: number;
  /** Aborted when the replica stops waiting for its sends (shutdown). */
  signal: AbortSignal;
  /**
   * Only hosts on the public internet (no allowlist names the receivers): an IP address or a name that resolves to a
   * private, loopback or link-local one is refused before anything is sent.
   */
  publicOnly?: boolean;
}

/**
 * POSTs one webhook on node:http: no redirect is followed (a 3xx is a failure, so a receiver cannot send Hive to a
 * host the allowlist never checked), no proxy, the whole exchange bounded by `timeoutMs`, and at most a few KB of the
 * answer read.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  { timeoutMs, signal, publicOnly = false }: PostOptions,
): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await send(url, headers, body, AbortSignal.any([timeout, signal]), publicOnly);
    const status = res.statusCode ?? 0;
    await discard(res);
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    return { kind: 'failed', status, error: `HTTP ${status}${redirect}` };
  } catch (error) {
    if (signal.aborted) return { kind: 'interrupted' };
    if (timeout.aborted) return { kind: 'failed', status: null, error: `no answer within ${timeoutMs} ms` };
    return { kind: 'failed', status: null, error: describeFailure(error) };
  }
}

/** Sends the request; resolves with the answer once its head arrived. */
function send(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  publicOnly: boolean,
): Promise<IncomingMessage> {
  // A literal address is never looked up: it is judged here.
  const host = urlHost(url);
  if (publicOnly && isIP(host) !== 0 && !isPublicAddress(host)) return Promise.reject(new PrivateAddressError());
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal,
        lookup: publicOnly ? publicOnlyLookup : undefined,
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads up to MAX_ANSWER_BYTES of the answer and drops the rest: the status is all that counts. */
async function discard(res: IncomingMessage): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of res) {
      read += (chunk as Buffer).length;
      if (read >= MAX_ANSWER_BYTES) break;
    }
  } catch {
    // a body that breaks off or outlasts the timeout changes nothing: the status has arrived
  } finally {
    if (!res.complete) res.destroy();
  }
}

/** Why no answer came, in a line: the socket's error, or why Hive would not call the host. */
export function describeFailure(error: unknown): string {
  const text = describeError(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
