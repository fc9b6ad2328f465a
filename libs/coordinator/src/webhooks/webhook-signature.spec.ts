import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { PACKAGE } from '@hive/config';
import { signWebhook, webhookHeaders, webhookKey, type WebhookMessage } from './webhook-signature.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const key = webhookKey(secret);
const nowS = () => Math.floor(Date.now() / 1000);
const message = (): WebhookMessage => ({
  id: 'msg_6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f',
  timestampS: nowS(),
  body: JSON.stringify({ type: 'task.completed', timestamp: new Date().toISOString(), data: { id: 'x', é: '✓' } }),
});

/** Verifies with the independent implementation of the Standard Webhooks authors; throws when it does not hold. */
const verify = (body: string, headers: Record<string, string>, withSecret = secret): unknown =>
  new Webhook(withSecret).verify(body, headers);

describe('webhook signatures (Standard Webhooks)', () => {
  it('builds headers that the standardwebhooks package verifies', () => {
    const msg = message();
    const headers = webhookHeaders(key, msg);
    expect(verify(msg.body, headers)).toEqual(JSON.parse(msg.body));
    const { 'webhook-signature': signature, ...others } = headers;
    expect(others).toEqual({
      'content-type': 'application/json',
      'user-agent': `Hive-Webhooks/${PACKAGE.version}`,
      'webhook-id': msg.id,
      'webhook-timestamp': String(msg.timestampS),
    });
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/); // 32 bytes of HMAC-SHA256
  });

  it('signs exactly as the standardwebhooks package does', () => {
    const msg = message();
    const theirs = new Webhook(secret).sign(msg.id, new Date(msg.timestampS * 1000), msg.body);
    expect(signWebhook(key, msg.id, msg.timestampS, msg.body)).toBe(theirs);
  });

  it('fails verification when the body, the timestamp or the id changed', () => {
    const msg = message();
    const headers = webhookHeaders(key, msg);
    expect(() => verify(`${msg.body} `, headers)).toThrow(/signature/i);
    expect(() => verify(msg.body, { ...headers, 'webhook-timestamp': String(msg.timestampS - 1) })).toThrow(
      /signature/i,
    );
    expect(() => verify(msg.body, { ...headers, 'webhook-id': `${msg.id}0` })).toThrow(/signature/i);
  });

  it('fails verification with another secret', () => {
    const msg = message();
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => verify(msg.body, webhookHeaders(key, msg), other)).toThrow(/signature/i);
  });

  it('gives a fresh signature for a fresh timestamp, the id staying the same', () => {
    const msg = message();
    const later = { ...msg, timestampS: msg.timestampS + 1 };
    const [first, second] = [webhookHeaders(key, msg), webhookHeaders(key, later)];
    expect(second['webhook-id']).toBe(first['webhook-id']);
    expect(second['webhook-signature']).not.toBe(first['webhook-signature']);
    expect(verify(later.body, second)).toEqual(JSON.parse(msg.body));
  });

  it('decodes the key after the whsec_ prefix, and refuses a secret without it', () => {
    const raw = randomBytes(24);
    expect(webhookKey(`whsec_${raw.toString('base64')}`).equals(raw)).toBe(true);
    expect(() => webhookKey(raw.toString('base64'))).toThrow(/whsec_/);
  });
});
