import { Injectable } from '@nestjs/common';
import { AgentStore, type AgentChanges, type NewAgent } from '@hive/database';
import { OllamaClient } from '../client/ollama-client.service.js';
import { QueueAnnouncer } from '../dispatch/queue-announcer.js';
import { AgentBusyError, AgentExistsError, AgentNotFoundError } from '../errors/coordinator-errors.js';
import { toAgentView, type AgentView } from './agent-view.js';

/** The agent registry: one row per agent; every change wakes the dispatchers, since capacity may have changed. */
@Injectable()
export class AgentRegistry {
  constructor(
    private readonly store: AgentStore,
    private readonly client: OllamaClient,
    private readonly announcer: QueueAnnouncer,
  ) {}

  async register(agent: NewAgent): Promise<void> {
    if (!(await this.store.register(agent))) throw new AgentExistsError(agent.id);
    this.announcer.announce('capacity');
  }

  async list(): Promise<AgentView[]> {
    return (await this.store.list()).map(toAgentView);
  }

  async get(id: string): Promise<AgentView> {
    const record = await this.store.get(id);
    if (record === undefined) throw new AgentNotFoundError(id);
    return toAgentView(record);
  }

  async update(id: string, changes: AgentChanges): Promise<AgentView> {
    if (!(await this.store.update(id, changes))) throw new AgentNotFoundError(id);
    if (changes.endpoint !== undefined) this.client.forget(id);
    this.announcer.announce('capacity');
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

  /** The specialties at least one registered agent serves. */
  specialties(): Promise<string[]> {
    return this.store.specialties();
  }
}
