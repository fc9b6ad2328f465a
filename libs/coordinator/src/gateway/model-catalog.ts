import { Injectable } from '@nestjs/common';
import { AgentStore, type AgentRecord } from '@hive/database';
import { AgentCallError } from '../client/agent-call-error.js';
import { AgentClient } from '../protocols/agent-client.service.js';

/** A model some enabled agent serves, as the gateway lists it. */
export interface ServedModel {
  name: string;
  /** When a probe last found it served (the latest over its agents); null before any probe. */
  probedAt: Date | null;
  /** When it leaves memory, the latest over the agents that reported it loaded (absent when none holds it now). */
  loadedUntil?: Date;
}

/** What a model's agent answered to /api/show, or that none could. */
export type ModelDescription =
  | { found: true; status: number; body: string }
  | { found: false; reason: 'unknown' | 'no_ollama_agent' }
  /** Every Ollama agent serving it failed to answer (`error`: the last one's failure). */
  | { found: false; reason: 'unreachable'; error: string };

const latest = (a: Date | null, b: Date | null): Date | null =>
  a === null ? b : b === null ? a : a.getTime() >= b.getTime() ? a : b;

/**
 * The models the gateway serves (docs/architecture.md, "The gateway"): those of enabled agents, as their probes last
 * found them, each once however many agents serve it.
 */
@Injectable()
export class ModelCatalog {
  constructor(
    private readonly agents: AgentStore,
    private readonly client: AgentClient,
  ) {}

  /** Every served model, by name. */
  async list(): Promise<ServedModel[]> {
    const byName = new Map<string, ServedModel>();
    const now = Date.now();
    for (const agent of await this.enabled()) {
      for (const name of agent.models) {
        const model = byName.get(name) ?? { name, probedAt: null };
        model.probedAt = latest(model.probedAt, agent.models_probed_at);
        // As the agent reported it (with its own UTC offset): compared as instants, and past ones left out.
        const expires = Date.parse(agent.loaded_models.find((m) => m.name === name)?.expires_at ?? '');
        if (expires > now && expires > (model.loadedUntil?.getTime() ?? 0)) model.loadedUntil = new Date(expires);
        byName.set(name, model);
      }
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Asks an Ollama agent serving `model` (one online first) what it knows of it. */
  async describe(model: string): Promise<ModelDescription> {
    const serving = (await this.enabled()).filter((agent) => agent.models.includes(model));
    if (serving.length === 0) return { found: false, reason: 'unknown' };
    const ollama = serving
      .filter((agent) => agent.kind === 'ollama')
      .sort((a, b) => Number(a.offline) - Number(b.offline));
    let failure: AgentCallError | undefined;
    for (const agent of ollama) {
      const address = await this.agents.address(agent.id);
      if (address === undefined) continue;
      try {
        return { found: true, ...(await this.client.showModel(address, model)) };
      } catch (error) {
        if (!(error instanceof AgentCallError)) throw error;
        failure = error;
      }
    }
    if (failure !== undefined) return { found: false, reason: 'unreachable', error: failure.message };
    return { found: false, reason: 'no_ollama_agent' };
  }

  private async enabled(): Promise<AgentRecord[]> {
    return (await this.agents.list()).filter((agent) => agent.enabled);
  }
}
