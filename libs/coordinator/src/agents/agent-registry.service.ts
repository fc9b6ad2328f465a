import { Injectable } from '@nestjs/common';
import { AgentStore, type AgentChanges, type NewAgent } from '@hive/database';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { AgentBusyError, AgentExistsError, AgentNotFoundError } from '../errors/coordinator-errors.js';
import { AgentClient } from '../protocols/agent-client.service.js';
import { AgentProber } from './agent-prober.service.js';
import { AgentSecrets } from './agent-secrets.js';
import { toAgentView, type AgentView } from './agent-view.js';

/** An agent as an operator registers it: its own API key (if any) in clear, encrypted before it is stored. */
export type AgentRegistration = Omit<NewAgent, 'api_key_encrypted'> & { api_key?: string };

/** Changes to an agent: a new API key in clear, or null to remove it. */
export type AgentUpdate = Omit<AgentChanges, 'api_key_encrypted'> & { api_key?: string | null };

/**
 * The agent registry: one row per agent; every change wakes the dispatchers, since capacity may have changed, and
 * a new or moved agent is probed at once for the models it serves.
 */
@Injectable()
export class AgentRegistry {
  constructor(
    private readonly store: AgentStore,
    private readonly client: AgentClient,
    private readonly secrets: AgentSecrets,
    private readonly prober: AgentProber,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async register({ api_key, ...agent }: AgentRegistration): Promise<void> {
    const encrypted = api_key === undefined ? {} : { api_key_encrypted: await this.secrets.encrypt(agent.id, api_key) };
    if (!(await this.store.register({ ...agent, ...encrypted }))) throw new AgentExistsError(agent.id);
    this.announcer.announce('capacity');
    this.prober.probeSoon(agent.id);
  }

  async list(): Promise<AgentView[]> {
    return (await this.store.list()).map((record) => toAgentView(record));
  }

  async get(id: string): Promise<AgentView> {
    const record = await this.store.get(id);
    if (record === undefined) throw new AgentNotFoundError(id);
    return toAgentView(record);
  }

  async update(id: string, { api_key, ...changes }: AgentUpdate): Promise<AgentView> {
    const key =
      api_key === undefined
        ? {}
        : { api_key_encrypted: api_key === null ? null : await this.secrets.encrypt(id, api_key) };
    if (!(await this.store.update(id, { ...changes, ...key }))) throw new AgentNotFoundError(id);
    if (changes.endpoint !== undefined) this.client.forget(id);
    this.announcer.announce('capacity');
    if (changes.endpoint !== undefined || changes.model !== undefined || api_key !== undefined) {
      this.prober.probeSoon(id);
    }
    return this.get(id);
  }

  /**
   * Removes an agent. While it runs tasks that is refused, unless `force`: then its running tasks go back to the
   * queue (the interrupted attempt does not count) and the replicas running them abort their calls.
   */
  async remove(id: string, force: boolean): Promise<{ requeued: number }> {
    const removal = await this.store.remove(id, force);
    switch (removal.outcome) {
      case 'missing':
        throw new AgentNotFoundError(id);
      case 'busy':
        throw new AgentBusyError(id, removal.running);
      case 'removed':
        this.client.forget(id);
        return { requeued: removal.requeued };
    }
  }
}
