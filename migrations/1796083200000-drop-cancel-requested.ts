import type { MigrationInterface, QueryRunner } from 'typeorm';

/** tasks.cancel_requested was written on cancel and never read: a cancelled task's status says it all. */
export class DropCancelRequested1796083200000 implements MigrationInterface {
  name = 'DropCancelRequested1796083200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tasks DROP COLUMN cancel_requested`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tasks ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false`);
  }
}
