export const API_KEY_ROLES = ['admin', 'operator', 'viewer'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** An API key as the API lists it; the key itself is never stored, only its SHA-256. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: ApiKeyRole;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** What authentication needs of a key that is not revoked. */
export interface ActiveApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  expires_at: Date | null;
}

export interface NewApiKey {
  name: string;
  role: ApiKeyRole;
  hash: Buffer;
  /** The first characters of the key, so a person can tell keys apart. */
  prefix: string;
  expiresAt?: Date;
}
