import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'hive_';
/** 32 random bytes: 256 bits, so a fast hash is safe to store and an index lookup replaces bcrypt scans. */
const KEY_BYTES = 32;
const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 6;

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** Constant-time comparison of a presented key with a known one. */
export function sameKey(presented: string, known: string): boolean {
  return timingSafeEqual(hashApiKey(presented), hashApiKey(known));
}

/** Keys longer than this are refused unhashed: no issued key comes near it. */
export const MAX_KEY_LENGTH = 512;

type Headers = Record<string, string | string[] | undefined>;
const presentedHashes = new WeakMap<object, Buffer | undefined>();

/**
 * The SHA-256 of the key a request presents, worked out once per request (the rate limit and the auth guard both
 * need it); undefined without a key or with one longer than MAX_KEY_LENGTH.
 */
export function presentedKeyHash(req: { headers: Headers }): Buffer | undefined {
  if (presentedHashes.has(req)) return presentedHashes.get(req);
  const key = presentedKey(req.headers);
  const hash = key !== undefined && key.length <= MAX_KEY_LENGTH ? hashApiKey(key) : undefined;
  presentedHashes.set(req, hash);
  return hash;
}

/** The key a request presents, from `X-API-Key` or `Authorization: Bearer`. */
export function presentedKey(headers: Headers): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}
