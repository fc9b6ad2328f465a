import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivering results without polling (docs/architecture.md, "Delivering results"): a task's status history for live
 * events, whether its agent call streams, its callback URL and the durable outbox of its webhook, and the keys of
 * idempotent submissions. Adding columns with constant defaults rewrites no rows; the new tables start empty.
 */
export class TaskDelivery1765152000000 implements MigrationInterface {
  name = 'TaskDelivery1765152000000';

  async up(db: QueryRunner): Promise<void> {
    // `events`: one object per state change ({seq, status, at, …}), appended by the statement that makes the change.
    await db.query(`
      ALTER TABLE tasks
        ADD COLUMN stream       boolean NOT NULL DEFAULT false,
        ADD COLUMN callback_url text,
        ADD COLUMN events       jsonb NOT NULL DEFAULT '[]'::jsonb`);

    // One delivery per task, written in the transaction that ends the task. Any replica delivers it: taking it pushes
    // next_attempt_at past the attempt (the lease) and names the replica in lease_owner, whose outcome alone lands.
    await db.query(`
      CREATE TABLE webhook_deliveries (
        task_id          uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        url              text NOT NULL,
        status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_status      integer,
        last_error       text,
        lease_owner      text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        finished_at      timestamptz
      )`);
    await db.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
                     WHERE status = 'pending'`);

    // A submission's Idempotency-Key, per API key: the request it stood for (a hash) and the tasks it created.
    await db.query(`
      CREATE TABLE idempotency_keys (
        owner        text NOT NULL,
        key          text NOT NULL,
        request_hash bytea NOT NULL,
        task_ids     uuid[] NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        PRIMARY KEY (owner, key)
      )`);
    await db.query(`CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
    await db.query(`DROP TABLE webhook_deliveries`);
    await db.query(`ALTER TABLE tasks DROP COLUMN events, DROP COLUMN callback_url, DROP COLUMN stream`);
  }
}
