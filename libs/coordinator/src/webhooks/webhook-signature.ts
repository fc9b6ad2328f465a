import { createHmac } from 'node:crypto';
import { PACKAGE } from '@hive/config';

/** The prefix of a Standard Webhooks secret; the base64 of the key follows it. */
const SECRET_PREFIX = 'whsec_';

export const WEBHOOK_USER_AGENT = `Hive-Webhooks/${PACKAGE.version}`;

/** The key of a `whsec_<base64>` secret (WEBHOOK_SECRET, validated at start-up). */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX}`);
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/**
 * The `webhook-signature` value of one attempt (Standard Webhooks, version 1): HMAC-SHA256 with the key over
 * `${id}.${timestamp}.${body}`, base64, after `v1,`.
 */
export function signWebhook(key: Buffer, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** What one attempt signs: the message id (the same on every attempt), its time and the exact body sent. */
export interface WebhookMessage {
  id: string;
  /** Integer seconds since the epoch. */
  timestampS: number;
  body: string;
}

/** The headers of one attempt: the three of Standard Webhooks, the body's type and Hive's user agent. */
export function webhookHeaders(key: Buffer, { id, timestampS, body }: WebhookMessage): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhook(key, id, timestampS, body),
  };
}
