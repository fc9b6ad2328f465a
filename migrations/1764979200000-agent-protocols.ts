import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents that serve many models over more than one protocol, and tasks that name an operation and a model
 * (docs/architecture.md, "Agents and protocols", "Placement").
 *
 * Outside a transaction, so that the new queue index is built CONCURRENTLY: submissions and claims go on while it
 * builds on a large tasks table, and the checks are validated without blocking writes. Every step can run again:
 * a migration interrupted half-way (a replica killed, say) is finished by the next start.
 */
export class AgentProtocols1764979200000 implements MigrationInterface {
  name = 'AgentProtocols1764979200000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    // Building the index may take longer than Hive's statement_timeout on a large table.
    await db.query(`SET statement_timeout = 0`);
    try {
      await this.addColumns(db);
      await this.replaceQueueIndex(db);
    } finally {
      await db.query(`RESET statement_timeout`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`SET statement_timeout = 0`);
    try {
      await db.query(`
        CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_queue_idx
            ON tasks (type, priority DESC, created_at) WHERE status = 'pending'`);
      await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_route_idx`);
      await db.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_route_check,
                        DROP CONSTRAINT IF EXISTS tasks_operation_check`);
      await db.query(`ALTER TABLE tasks DROP COLUMN IF EXISTS input, DROP COLUMN IF EXISTS model,
                        DROP COLUMN IF EXISTS operation`);
      await db.query(`ALTER TABLE agents DROP COLUMN IF EXISTS paused_until, DROP COLUMN IF EXISTS api_key_encrypted,
                        DROP COLUMN IF EXISTS models_probed_at, DROP COLUMN IF EXISTS recent_models,
                        DROP COLUMN IF EXISTS loaded_capacity, DROP COLUMN IF EXISTS loaded_models,
                        DROP COLUMN IF EXISTS models`);
    } finally {
      await db.query(`RESET statement_timeout`);
    }
  }

  private async addColumns(db: QueryRunner): Promise<void> {
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

    // '' in type or model means "any specialty" or "the agent's default model": both are parts of the queue key, and
    // a task names at least one of them.
    await db.query(`
      ALTER TABLE tasks
        ADD COLUMN IF NOT EXISTS operation text NOT NULL DEFAULT 'generate',
        ADD COLUMN IF NOT EXISTS model     text NOT NULL DEFAULT '',
        ADD COLUMN IF NOT EXISTS input     jsonb`);
    // NOT VALID, then VALIDATE: the check of the existing rows does not hold up writes.
    const checks: [name: string, condition: string][] = [
      ['tasks_operation_check', `operation IN ('generate', 'chat', 'embed')`],
      ['tasks_route_check', `type <> '' OR model <> ''`],
    ];
    for (const [name, condition] of checks) {
      await db.query(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '${name}' AND conrelid = 'tasks'::regclass) THEN
            ALTER TABLE tasks ADD CONSTRAINT ${name} CHECK (${condition}) NOT VALID;
          END IF;
        END $$`);
      await db.query(`ALTER TABLE tasks VALIDATE CONSTRAINT ${name}`);
    }
  }

  /**
   * The claim looks tasks up by type and model. An index a failed build left invalid is built again; the old index
   * goes only once the new one is valid, so the queue is never without one.
   */
  private async replaceQueueIndex(db: QueryRunner): Promise<void> {
    const [left] = (await db.query(
      `SELECT NOT i.indisvalid AS invalid FROM pg_index i WHERE i.indexrelid = to_regclass('tasks_route_idx')`,
    )) as { invalid: boolean }[];
    if (left?.invalid === true) await db.query(`DROP INDEX CONCURRENTLY tasks_route_idx`);
    await db.query(`
      CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_route_idx
          ON tasks (type, model, priority DESC, created_at) WHERE status = 'pending'`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_queue_idx`);
  }
}
