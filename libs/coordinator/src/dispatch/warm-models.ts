import type { ClaimableAgent } from '@hive/database';

/**
 * How long a model stays loaded after its last call: Ollama's default keep_alive. An agent's /api/ps tells the real
 * time for the models it lists; for a model Hive sent it since, this is the guess.
 */
export const KEEP_ALIVE_MS = 5 * 60_000;

type MemorySource = Pick<ClaimableAgent, 'loaded_models' | 'loaded_capacity' | 'recent_models' | 'models_probed_at'>;

/**
 * Hive's estimate of the models an agent holds in memory, most recently used first: what its last probe reported
 * loaded (Ollama's /api/ps), updated with the models Hive sent it since, each until its keep-alive ends, and at most
 * as many as the agent was seen holding at once (the least recently used ones drop out, as Ollama evicts them).
 * Without a known capacity (OpenAI servers, or before a probe saw any), every model sent there recently counts.
 */
export class WarmModels {
  /** Model → last use (epoch ms), most recent first once sorted. */
  private readonly lastUse = new Map<string, number>();
  private readonly capacity: number;
  /** models(), until the next use changes it: placement asks for every task and option of a claim. */
  private loaded: string[] | undefined;

  constructor(
    agent: MemorySource,
    private readonly now: number,
  ) {
    // A model /api/ps listed was last used when its keep-alive began, and no later than the probe: an agent that
    // keeps models longer than Ollama's default must not rank them above those Hive sent it since.
    const probedAt = agent.models_probed_at?.getTime() ?? Infinity;
    for (const { name, expires_at } of agent.loaded_models) {
      const expires = Date.parse(expires_at);
      if (expires > now) this.note(name, Math.min(expires - KEEP_ALIVE_MS, probedAt));
    }
    for (const [name, at] of Object.entries(agent.recent_models)) {
      if (at + KEEP_ALIVE_MS > now) this.note(name, at);
    }
    this.capacity = agent.loaded_capacity > 0 ? agent.loaded_capacity : Infinity;
  }

  /** Whether the model is thought loaded now. */
  has(model: string): boolean {
    return this.models().includes(model);
  }

  /** The model is used now: it is loaded (first in line), evicting the least recently used beyond capacity. */
  use(model: string): void {
    // Moved to the end: models used at the same instant (one claim) rank by the order of use, the last first.
    this.lastUse.delete(model);
    this.lastUse.set(model, this.now);
    this.loaded = undefined;
  }

  /** The models thought loaded, most recently used first. */
  models(): string[] {
    this.loaded ??= [...this.lastUse]
      .reverse()
      .sort((a, b) => b[1] - a[1])
      .slice(0, this.capacity)
      .map(([name]) => name);
    return this.loaded;
  }

  private note(name: string, at: number): void {
    this.lastUse.set(name, Math.max(at, this.lastUse.get(name) ?? -Infinity));
  }
}

/** A model already recorded this recently is not written again: under load, one write per agent per second at most. */
const RECENT_RESOLUTION_MS = 1_000;

/**
 * An agent's recent_models after this claim sent it `models` at `now`: entries past their keep-alive dropped;
 * undefined when nothing worth a write changed.
 */
export function recentAfter(
  recent: Readonly<Record<string, number>>,
  models: Iterable<string>,
  now: number,
): Record<string, number> | undefined {
  let changed = false;
  const next: Record<string, number> = {};
  for (const [name, at] of Object.entries(recent)) {
    if (at + KEEP_ALIVE_MS > now) next[name] = at;
    else changed = true;
  }
  for (const model of models) {
    const at = next[model];
    if (at === undefined || now - at >= RECENT_RESOLUTION_MS) {
      next[model] = now;
      changed = true;
    }
  }
  return changed ? next : undefined;
}
