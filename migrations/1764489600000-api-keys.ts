import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys with roles. Only a SHA-256 of each key is stored; it is looked up by its unique index. */
export class ApiKeys1764489600000 implements MigrationInterface {
  name = 'ApiKeys1764489600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_keys (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        role         text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        key_hash     bytea NOT NULL UNIQUE,
        key_prefix   text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        expires_at   timestamptz,
        revoked_at   timestamptz
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE api_keys`);
  }
}
