import { timingSafeEqual } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { ApiKeyStore, type ActiveApiKey, type ApiKeyRole, type ApiKeyView } from '@hive/database';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format.js';
import type { Principal } from './roles.js';

/** Revocation and expiry reach other replicas within this time; this one forgets a revoked key at once. */
const CACHE_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_EVERY_MS = 60_000;

const ENV_ADMIN: Principal = { keyId: 'env:HIVE_ADMIN_API_KEY', name: 'HIVE_ADMIN_API_KEY', role: 'admin' };

@Injectable()
export class ApiKeyService {
  private readonly cache = new Map<string, { row: ActiveApiKey; until: number }>();
  private readonly touched = new Map<string, number>();
  /** HIVE_ADMIN_API_KEY's hash, worked out once rather than on every request. */
  private readonly adminHash: Buffer | undefined;

  constructor(
    private readonly store: ApiKeyStore,
    config: HiveConfig,
  ) {
    const admin = config.security.adminApiKey;
    this.adminHash = admin === undefined ? undefined : hashApiKey(admin);
  }

  /** Creates a key; the returned `key` is the only time it is ever seen. */
  async create(name: string, role: ApiKeyRole, expiresAt?: Date): Promise<ApiKeyView & { key: string }> {
    const key = generateApiKey();
    const view = await this.store.create({ name, role, hash: hashApiKey(key), prefix: displayPrefix(key), expiresAt });
    return { ...view, key };
  }

  /** Stores a key made elsewhere (the bootstrap admin key); does nothing if it is already known. */
  async adopt(key: string, name: string, role: ApiKeyRole): Promise<boolean> {
    return this.store.adopt({ name, role, hash: hashApiKey(key), prefix: displayPrefix(key) });
  }

  list(): Promise<ApiKeyView[]> {
    return this.store.list();
  }

  async revoke(id: string): Promise<void> {
    const hash = await this.store.revoke(id);
    if (hash === undefined) throw new NotFoundException(`API key ${id} does not exist`);
    this.cache.delete(hash.toString('hex'));
  }

  /** The principal behind a presented key (by its hash), or undefined when it is unknown, revoked or expired. */
  async authenticate(hash: Buffer): Promise<Principal | undefined> {
    if (this.adminHash !== undefined && timingSafeEqual(hash, this.adminHash)) return ENV_ADMIN;
    const cacheKey = hash.toString('hex');
    const now = Date.now();
    const cached = this.cache.get(cacheKey);
    let row = cached !== undefined && cached.until > now ? cached.row : undefined;
    if (row === undefined) {
      row = await this.store.findActive(hash);
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
    void this.store.touch(id).catch(() => undefined);
  }
}
