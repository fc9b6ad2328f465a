import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { AgentStore, describeError, settlesWithin, type AgentAddress } from '@hive/database';
import { AgentCallError } from '../client/agent-call-error.js';
import { outsideRequests } from '../outside-requests.js';
import { AgentClient } from '../protocols/agent-client.service.js';
import { AgentHealth } from './agent-health.js';

/** How long shutdown waits for a probe round under way. */
const LAST_ROUND_WAIT_MS = 2_000;

/**
 * Probes every enabled agent once per AGENT_PROBE_INTERVAL_MS in its own protocol: the models it serves (and, for
 * Ollama, those loaded now). Each probe is claimed in the database first, so with many replicas each agent is still
 * probed once per interval, not once per replica. A new or changed agent is probed at once.
 */
@Injectable()
export class AgentProber implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentProber');
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private readonly single = new Set<Promise<void>>();
  private busy = false;
  private readonly detached = outsideRequests();

  constructor(
    private readonly store: AgentStore,
    private readonly config: HiveConfig,
    private readonly client: AgentClient,
    private readonly health: AgentHealth,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.coordinator.agentProbeIntervalMs;
    this.timer = setInterval(() => {
      if (this.busy) return; // a slow round (locks, timeouts) must not pile up rounds behind it
      this.busy = true;
      this.round = this.probeDue().finally(() => (this.busy = false));
    }, interval);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // A round stuck on a database that stopped answering must not hold the exit.
    if (!(await settlesWithin(Promise.all([this.round, ...this.single]), LAST_ROUND_WAIT_MS))) {
      this.logger.warn(`The last probe round did not finish within ${LAST_ROUND_WAIT_MS} ms; shutting down without it`);
    }
  }

  /** Probes the agents no replica has probed within the interval (the store decides which, once for all). */
  async probeDue(): Promise<void> {
    try {
      const due = await this.store.takeDueProbes(this.config.coordinator.agentProbeIntervalMs);
      await Promise.all(due.map((agent) => this.probe(agent)));
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, `Agent probe round failed: ${describeError(error)}`);
    }
  }

  /** Probes one agent now, in the background (it was registered or changed): its models are known in moments. */
  probeSoon(agentId: string): void {
    const probe: Promise<void> = this.detached(async () => {
      try {
        const agent = await this.store.takeProbe(agentId);
        if (agent !== undefined) await this.probe(agent);
      } catch (error) {
        this.logger.warn(
          { agentId, err: describeError(error) },
          `Probing agent ${agentId} failed: ${describeError(error)}`,
        );
      }
    }).finally(() => this.single.delete(probe));
    this.single.add(probe);
  }

  private async probe(agent: AgentAddress): Promise<void> {
    let report;
    try {
      report = await this.client.probe(agent);
    } catch (error) {
      // This replica cannot call it as registered (a key it cannot decrypt): not the agent failing.
      if (error instanceof AgentCallError && error.kind === 'local') {
        this.logger.warn({ agentId: agent.id, err: error.message }, `Cannot probe agent ${agent.id}: ${error.message}`);
        return;
      }
      await this.health.recordFailure(agent.id, `probe failed: ${describeError(error)}`);
      return;
    }
    await this.health.recordProbeSuccess(agent, report);
  }
}
