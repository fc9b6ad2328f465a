import type { EntityManager } from 'typeorm';

export interface ClaimableAgent {
  id: string;
  endpoint: string;
  model: string;
  specialty: string;
  max_concurrent: number;
  consecutive_failures: number;
}

export interface ClaimedTask {
  id: string;
  type: string;
  priority: number;
  context: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  created_at: Date;
  available_at: Date;
  /** The agent that ran the previous attempt, if any: a retry prefers another one. */
  previous_agent: string | null;
  agent: ClaimableAgent;
}

export interface Claim {
  tasks: ClaimedTask[];
  /** Slots the available agents had free before this claim, over all replicas (counted under the agents' locks). */
  freeSlots: number;
}

type PendingRow = Omit<ClaimedTask, 'agent' | 'attempts'> & { attempts: number };

/** Picks the least-loaded agent with a free slot, avoiding `avoid` while another one is free. */
function pickAgent(candidates: ClaimableAgent[], load: Map<string, number>, avoid: string | null) {
  let best: ClaimableAgent | undefined;
  let bestScore = Infinity;
  for (const agent of candidates) {
    const running = load.get(agent.id) ?? 0;
    if (running >= agent.max_concurrent) continue;
    const score = running / agent.max_concurrent + (agent.id === avoid ? 1 : 0);
    if (score < bestScore) [best, bestScore] = [agent, score];
  }
  return best;
}

/**
 * Claims up to `limit` pending tasks in one transaction. The rows of the available agents are locked first (in id
 * order, so replicas never deadlock) and their load counted after the lock, so two replicas can never push an
 * agent past max_concurrent; tasks are taken with SKIP LOCKED, highest priority first, then oldest.
 */
export async function claimTasks(db: EntityManager, replicaId: string, leaseMs: number, limit: number): Promise<Claim> {
  const agents: ClaimableAgent[] = await db.query(
    `SELECT id, endpoint, model, specialty, max_concurrent, consecutive_failures
       FROM agents WHERE enabled AND NOT offline ORDER BY id FOR UPDATE`,
  );
  if (agents.length === 0) return { tasks: [], freeSlots: 0 };
  const loadRows: { id: string; running: number }[] = await db.query(
    `SELECT assigned_agent AS id, count(*)::int AS running FROM tasks
      WHERE status = 'in_progress' AND assigned_agent = ANY($1) GROUP BY assigned_agent`,
    [agents.map((a) => a.id)],
  );
  const load = new Map(loadRows.map((r) => [r.id, r.running]));

  const bySpecialty = new Map<string, ClaimableAgent[]>();
  const free = new Map<string, number>();
  let freeSlots = 0;
  for (const agent of agents) {
    bySpecialty.set(agent.specialty, [...(bySpecialty.get(agent.specialty) ?? []), agent]);
    const slots = Math.max(0, agent.max_concurrent - (load.get(agent.id) ?? 0));
    free.set(agent.specialty, (free.get(agent.specialty) ?? 0) + slots);
    freeSlots += slots;
  }
  const wanted = [...free]
    .filter(([, slots]) => slots > 0)
    .map(([type, slots]) => [type, Math.min(slots, limit)] as const);
  if (wanted.length === 0) return { tasks: [], freeSlots };

  const pending: PendingRow[] = await db.query(
    `SELECT t.id, t.type, t.priority, t.context, t.attempts, t.max_attempts, t.timeout_ms, t.created_at,
            t.available_at, t.assigned_agent AS previous_agent
       FROM unnest($1::text[], $2::int[]) AS w(type, slots)
       CROSS JOIN LATERAL (
         SELECT * FROM tasks
          WHERE status = 'pending' AND type = w.type AND available_at <= now()
          ORDER BY priority DESC, created_at
          LIMIT w.slots
          FOR UPDATE SKIP LOCKED
       ) t
      ORDER BY t.priority DESC, t.created_at
      LIMIT $3`,
    [wanted.map(([type]) => type), wanted.map(([, slots]) => slots), limit],
  );

  const claimed: ClaimedTask[] = [];
  for (const task of pending) {
    const agent = pickAgent(bySpecialty.get(task.type) ?? [], load, task.previous_agent);
    if (agent === undefined) continue;
    load.set(agent.id, (load.get(agent.id) ?? 0) + 1);
    claimed.push({ ...task, attempts: task.attempts + 1, agent });
  }
  if (claimed.length === 0) return { tasks: [], freeSlots };

  await db.query(
    `UPDATE tasks t
        SET status = 'in_progress', assigned_agent = c.agent, attempts = t.attempts + 1, started_at = now(),
            lease_owner = $3, lease_expires_at = now() + $4 * interval '1 millisecond', updated_at = now()
       FROM unnest($1::uuid[], $2::text[]) AS c(id, agent)
      WHERE t.id = c.id`,
    [claimed.map((t) => t.id), claimed.map((t) => t.agent.id), replicaId, leaseMs],
  );
  return { tasks: claimed, freeSlots };
}
