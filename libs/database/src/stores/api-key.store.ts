import { Injectable } from '@nestjs/common';
import { Sql } from '../sql/sql.js';
import { statement } from '../sql/statement.js';
import type { ActiveApiKey, ApiKeyView, NewApiKey } from './api-keys/api-key.types.js';

const VIEW_COLUMNS = 'id, name, role, key_prefix, created_at, last_used_at, expires_at, revoked_at';

/** The statements of the api_keys table; authentication's lookup runs on every request with a new key. */
const API_KEY_SQL = {
  /** $1 name, $2 role, $3 hash, $4 prefix, $5 expires at. */
  create: statement(
    'api_key.create',
    `INSERT INTO api_keys (name, role, key_hash, key_prefix, expires_at) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${VIEW_COLUMNS}`,
  ),
  /** $1–$4 as for create; no row when the hash exists. */
  adopt: statement(
    'api_key.adopt',
    `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
     ON CONFLICT (key_hash) DO NOTHING RETURNING id`,
  ),
  list: statement('api_key.list', `SELECT ${VIEW_COLUMNS} FROM api_keys ORDER BY created_at DESC`),
  /** $1 id. */
  revoke: statement(
    'api_key.revoke',
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING key_hash`,
  ),
  /** $1 hash. */
  findActive: statement(
    'api_key.find_active',
    `SELECT id, name, role, expires_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
  ),
  /** $1 id. */
  touch: statement('api_key.touch', `UPDATE api_keys SET last_used_at = now() WHERE id = $1`),
} as const;

/** The api_keys table: keys are found by the SHA-256 of the presented key (a unique index), never by the key. */
@Injectable()
export class ApiKeyStore {
  constructor(private readonly sql: Sql) {}

  async create(key: NewApiKey): Promise<ApiKeyView> {
    const rows = await this.sql.rows<ApiKeyView>(API_KEY_SQL.create, [
      key.name,
      key.role,
      key.hash,
      key.prefix,
      key.expiresAt ?? null,
    ]);
    return rows[0];
  }

  /** Stores a key made elsewhere (the bootstrap admin key); false when a key with this hash exists. */
  async adopt(key: NewApiKey): Promise<boolean> {
    const rows = await this.sql.rows(API_KEY_SQL.adopt, [key.name, key.role, key.hash, key.prefix]);
    return rows.length === 1;
  }

  /** Newest first. */
  list(): Promise<ApiKeyView[]> {
    return this.sql.rows<ApiKeyView>(API_KEY_SQL.list);
  }

  /** Revokes a key (again is harmless); its hash, or undefined when no key has this id. */
  async revoke(id: string): Promise<Buffer | undefined> {
    const rows = await this.sql.rows<{ key_hash: Buffer }>(API_KEY_SQL.revoke, [id]);
    return rows[0]?.key_hash;
  }

  /** The key with this hash unless it is revoked (expiry is the caller's to judge). */
  async findActive(hash: Buffer): Promise<ActiveApiKey | undefined> {
    const rows = await this.sql.rows<ActiveApiKey>(API_KEY_SQL.findActive, [hash]);
    return rows[0];
  }

  async touch(id: string): Promise<void> {
    await this.sql.rows(API_KEY_SQL.touch, [id]);
  }
}
