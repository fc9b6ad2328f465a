import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../support/query-rows.js';
import type { ActiveApiKey, ApiKeyView, NewApiKey } from './api-keys/api-key.types.js';

const VIEW_COLUMNS = 'id, name, role, key_prefix, created_at, last_used_at, expires_at, revoked_at';

/** The api_keys table: keys are found by the SHA-256 of the presented key (a unique index), never by the key. */
@Injectable()
export class ApiKeyStore {
  constructor(private readonly db: DataSource) {}

  async create(key: NewApiKey): Promise<ApiKeyView> {
    const rows = await queryRows<ApiKeyView>(
      this.db,
      `INSERT INTO api_keys (name, role, key_hash, key_prefix, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${VIEW_COLUMNS}`,
      [key.name, key.role, key.hash, key.prefix, key.expiresAt ?? null],
    );
    return rows[0];
  }

  /** Stores a key made elsewhere (the bootstrap admin key); false when a key with this hash exists. */
  async adopt(key: NewApiKey): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_hash) DO NOTHING RETURNING id`,
      [key.name, key.role, key.hash, key.prefix],
    );
    return rows.length === 1;
  }

  /** Newest first. */
  list(): Promise<ApiKeyView[]> {
    return queryRows<ApiKeyView>(this.db, `SELECT ${VIEW_COLUMNS} FROM api_keys ORDER BY created_at DESC`);
  }

  /** Revokes a key (again is harmless); its hash, or undefined when no key has this id. */
  async revoke(id: string): Promise<Buffer | undefined> {
    const rows = await queryRows<{ key_hash: Buffer }>(
      this.db,
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING key_hash`,
      [id],
    );
    return rows[0]?.key_hash;
  }

  /** The key with this hash unless it is revoked (expiry is the caller's to judge). */
  async findActive(hash: Buffer): Promise<ActiveApiKey | undefined> {
    const rows = await queryRows<ActiveApiKey>(
      this.db,
      `SELECT id, name, role, expires_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return rows[0];
  }

  async touch(id: string): Promise<void> {
    await this.db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]);
  }
}
