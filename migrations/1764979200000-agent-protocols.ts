import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents that serve many models over more than one protocol, and tasks that name an operation and a model
 * (docs/architecture.md, "Agents and protocols", "Placement").
 *
 * Outside a transaction, so that the new queue index is built CONCURRENTLY: submissions and claims go on while it
 * builds on a large tasks table. Each statement is idempotent, so a migration interrupted half-way is run again.
 */
export class AgentProtocols1764979200000 implements MigrationInterface {
  name = 'AgentProtocols1764979200000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    // The models an agent serves (from its last probe; null until then, when its default model is assumed), what it
    // reported loaded (/api/ps), the most it was seen holding at once, when Hive last sent it each model (ms), its
    // API key (encrypted), and until when it asked not to be called (Retry-After).
    await db.query(`
      ALTER TABLE agents
        ADD COLUMN IF NOT EXISTS models            text[],
        ADD COLUMN IF NOT EXISTS loaded_models     jsonb NOT NULL DEFAULT '[]'::jsonb,
        ADD COLUMN IF NOT EXISTS loaded_capacity   integer NOT NULL DEFAULT 0,
        ADD COLUMN IF NOT EXISTS recent_models     jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN IF NOT EXISTS models_probed_at  timestamptz,
        ADD COLUMN IF NOT EXISTS api_key_encrypted text,
        ADD COLUMN IF NOT EXISTS paused_until      timestamptz`);

    // '' in type or model means "any specialty" or "the agent's default model": both are parts of the queue key.
    await db.query(`
      ALTER TABLE tasks
        ADD COLUMN IF NOT EXISTS operation text NOT NULL DEFAULT 'generate'
                                 CHECK (operation IN ('generate', 'chat', 'embed')),
        ADD COLUMN IF NOT EXISTS model     text NOT NULL DEFAULT '',
        ADD COLUMN IF NOT EXISTS input     jsonb`);
    await db.query(`
      CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_route_idx
          ON tasks (type, model, priority DESC, created_at) WHERE status = 'pending'`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_queue_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_queue_idx
          ON tasks (type, priority DESC, created_at) WHERE status = 'pending'`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_route_idx`);
    await db.query(`ALTER TABLE tasks DROP COLUMN IF EXISTS input, DROP COLUMN IF EXISTS model,
                      DROP COLUMN IF EXISTS operation`);
    await db.query(`ALTER TABLE agents DROP COLUMN IF EXISTS paused_until, DROP COLUMN IF EXISTS api_key_encrypted,
                      DROP COLUMN IF EXISTS models_probed_at,
                      DROP COLUMN IF EXISTS recent_models, DROP COLUMN IF EXISTS loaded_capacity,
                      DROP COLUMN IF EXISTS loaded_models, DROP COLUMN IF EXISTS models`);
  }
}
