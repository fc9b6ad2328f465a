import { timingSafeEqual } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HiveConfig } from '@hive/config';
import { queryRows, type ApiKeyRole } from '@hive/database';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format.js';
import type { Principal } from './roles.js';

/** Revocation and expiry reach other replicas within this time; this one forgets a revoked key at once. */
const CACHE_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_EVERY_MS = 60_000;

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

interface KeyRow {
  id: string;
  name: string;
  role: ApiKeyRole;
  expires_at: Date | null;
}

const ENV_ADMIN: Principal = { keyId: 'env:HIVE_ADMIN_API_KEY', name: 'HIVE_ADMIN_API_KEY', role: 'admin' };
const VIEW_COLUMNS = 'id, name, role, key_prefix, created_at, last_used_at, expires_at, revoked_at';

@Injectable()
export class ApiKeyService {
  private readonly cache = new Map<string, { row: KeyRow; until: number }>();
  private readonly touched = new Map<string, number>();
  /** HIVE_ADMIN_API_KEY's hash, worked out once rather than on every request. */
  private readonly adminHash: Buffer | undefined;

  constructor(
    private readonly db: DataSource,
    config: HiveConfig,
  ) {
    const admin = config.security.adminApiKey;
    this.adminHash = admin === undefined ? undefined : hashApiKey(admin);
  }

  /** Creates a key; the returned `key` is the only time it is ever seen. */
  async create(name: string, role: ApiKeyRole, expiresAt?: Date): Promise<ApiKeyView & { key: string }> {
    const key = generateApiKey();
    const rows: ApiKeyView[] = await this.db.query(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${VIEW_COLUMNS}`,
      [name, role, hashApiKey(key), displayPrefix(key), expiresAt ?? null],
    );
    return { ...rows[0], key };
  }

  /** Stores a key made elsewhere (the bootstrap admin key); does nothing if it is already known. */
  async adopt(key: string, name: string, role: ApiKeyRole): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_hash) DO NOTHING RETURNING id`,
      [name, role, hashApiKey(key), displayPrefix(key)],
    );
    return rows.length === 1;
  }

  list(): Promise<ApiKeyView[]> {
    return this.db.query(`SELECT ${VIEW_COLUMNS} FROM api_keys ORDER BY created_at DESC`);
  }

  async revoke(id: string): Promise<void> {
    const rows = await queryRows<{ key_hash: Buffer }>(
      this.db,
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING key_hash`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) throw new NotFoundException(`API key ${id} does not exist`);
    this.cache.delete(row.key_hash.toString('hex'));
  }

  /** The principal behind a presented key (by its hash), or undefined when it is unknown, revoked or expired. */
  async authenticate(hash: Buffer): Promise<Principal | undefined> {
    if (this.adminHash !== undefined && timingSafeEqual(hash, this.adminHash)) return ENV_ADMIN;
    const cacheKey = hash.toString('hex');
    const now = Date.now();
    const cached = this.cache.get(cacheKey);
    let row = cached !== undefined && cached.until > now ? cached.row : undefined;
    if (row === undefined) {
      const rows: KeyRow[] = await this.db.query(
        `SELECT id, name, role, expires_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
        [hash],
      );
      row = rows[0];
      if (row === undefined) return undefined;
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(cacheKey, { row, until: now + CACHE_MS });
    }
    if (row.expires_at !== null && row.expires_at.getTime() <= now) return undefined;
    this.touch(row.id, now);
    return { keyId: row.id, name: row.name, role: row.role };
  }

  private touch(id: string, now: number): void {
    if ((this.touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    if (this.touched.size >= CACHE_MAX_ENTRIES) this.touched.clear();
    this.touched.set(id, now);
    void this.db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]).catch(() => undefined);
  }
}
