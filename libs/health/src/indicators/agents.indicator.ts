import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { HiveConfig } from '@hive/config';
import { AgentRegistry, countAgents, type AgentView } from '@hive/coordinator';
import { routeModel, TaskStore, type PendingOfRoute } from '@hive/database';

interface Fleet {
  agents: AgentView[];
  backlog: PendingOfRoute[];
}

/** A backlog's route as the report names it. */
const describeRoute = ({ type, model }: PendingOfRoute): string =>
  model === '' ? `task type ${type}` : type === '' ? `model ${model}` : `task type ${type} with model ${model}`;

/**
 * The agents seen from the database. Degraded only when tasks are pending that no online agent can run (every agent
 * of their specialty, or serving their model, is offline, or there is none): busy agents will take the backlog as
 * slots free up, that is load, not a fault; offline agents nobody waits for are not a fault either.
 */
@Injectable()
export class AgentsIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: AgentRegistry,
    private readonly tasks: TaskStore,
    private readonly config: HiveConfig,
  ) {}

  async check<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const session = this.indicators.check(key);
    let fleet: Fleet | undefined;
    // The attempt gives the read the probe timeout; the fleet it read decides between up and degraded.
    const read = await session
      .attempt(async () => {
        const [agents, backlog] = await Promise.all([this.registry.list(), this.tasks.pendingByRoute()]);
        fleet = { agents, backlog };
      })
      .withTimeout(this.config.healthCheckTimeoutMs);
    if (read[key].status !== 'up' || fleet === undefined) return read;

    const { agents, backlog } = fleet;
    const data = {
      ...countAgents(agents),
      details: Object.fromEntries(agents.map((a) => [a.id, a.status])),
    };
    const unserved = backlog.filter(
      (route) => !agents.some((a) => a.status !== 'offline' && routeModel(a, route) !== undefined),
    );
    if (unserved.length === 0) return session.up(data);
    const list = unserved.map((route) => `${describeRoute(route)} (${route.pending} pending)`).join(', ');
    return session.degraded({ ...data, message: `no online agent for ${list}` });
  }
}
