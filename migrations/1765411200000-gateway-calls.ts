import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Calls through the client-facing gateway (docs/architecture.md, "The gateway"): which dialect a task came through,
 * and whether its content (input and answer) is kept once the call has ended. Constant defaults: no row is
 * rewritten.
 */
export class GatewayCalls1765411200000 implements MigrationInterface {
  name = 'GatewayCalls1765411200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tasks
        ADD COLUMN gateway text CHECK (gateway IN ('openai', 'ollama')),
        ADD COLUMN retain  text NOT NULL DEFAULT 'full' CHECK (retain IN ('full', 'metadata'))`);
    // The ended calls whose content is still to be forgotten (their replica stopped before it could): few, if any.
    await db.query(`CREATE INDEX tasks_content_to_forget_idx ON tasks (completed_at)
                     WHERE retain = 'metadata' AND input IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX tasks_content_to_forget_idx`);
    await db.query(`ALTER TABLE tasks DROP COLUMN retain, DROP COLUMN gateway`);
  }
}
