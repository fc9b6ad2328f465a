import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The agents registry and the durable task queue (docs/architecture.md, "The task lifecycle"). */
export class InitialSchema1764403200000 implements MigrationInterface {
  name = 'InitialSchema1764403200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE agents (
        id                   text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
        endpoint             text NOT NULL,
        model                text NOT NULL,
        specialty            text NOT NULL,
        kind                 text NOT NULL DEFAULT 'ollama',
        max_concurrent       integer NOT NULL DEFAULT 2 CHECK (max_concurrent BETWEEN 1 AND 1000),
        enabled              boolean NOT NULL DEFAULT true,
        offline              boolean NOT NULL DEFAULT false,
        consecutive_failures integer NOT NULL DEFAULT 0,
        last_seen            timestamptz,
        probed_at            timestamptz,
        last_error           text,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX agents_specialty_idx ON agents (specialty)`);

    await db.query(`
      CREATE TABLE tasks (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type             text NOT NULL,
        priority         smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
        status           text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
        context          jsonb NOT NULL DEFAULT '{}'::jsonb,
        result           jsonb,
        error            text,
        assigned_agent   text,
        attempts         integer NOT NULL DEFAULT 0,
        max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
        timeout_ms       integer CHECK (timeout_ms > 0),
        available_at     timestamptz NOT NULL DEFAULT now(),
        lease_owner      text,
        lease_expires_at timestamptz,
        cancel_requested boolean NOT NULL DEFAULT false,
        created_at       timestamptz NOT NULL DEFAULT now(),
        started_at       timestamptz,
        completed_at     timestamptz,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // The claim query: pending tasks of a type, highest priority first, oldest first.
    await db.query(`CREATE INDEX tasks_queue_idx ON tasks (type, priority DESC, created_at) WHERE status = 'pending'`);
    // Load per agent, counted inside the claim transaction.
    await db.query(`CREATE INDEX tasks_running_agent_idx ON tasks (assigned_agent) WHERE status = 'in_progress'`);
    // The lease reaper.
    await db.query(`CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE status = 'in_progress'`);
    // Listings (newest first), by status, and the retention sweep.
    await db.query(`CREATE INDEX tasks_created_idx ON tasks (created_at DESC)`);
    await db.query(`CREATE INDEX tasks_status_created_idx ON tasks (status, created_at DESC)`);
    await db.query(
      `CREATE INDEX tasks_finished_idx ON tasks (completed_at) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE tasks`);
    await db.query(`DROP TABLE agents`);
  }
}
