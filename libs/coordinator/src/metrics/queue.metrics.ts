import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { TASK_STATUSES } from '@hive/database';
import { MetricsRegistry } from '@hive/metrics';
import type { AgentView } from '../agents/agent-view.js';
import { QueueSnapshotReader } from './queue-snapshot.js';

type AgentValue = (agent: AgentView) => number;

/**
 * hive_tasks{state} and hive_agent_*{agent}, set from the database snapshot at scrape time. Each gauge is reset
 * first, so a deleted agent's series disappears, and all are left out when the database could not be read.
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly snapshots: QueueSnapshotReader,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const snapshots = this.snapshots;
    new Gauge({
      name: 'hive_tasks',
      help: 'Tasks in the database by state (pending, in_progress, completed, failed, cancelled); the same on every replica.',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const snapshot = await snapshots.read();
        this.reset();
        if (snapshot === undefined) return;
        for (const state of TASK_STATUSES) this.set({ state }, snapshot.tasks[state]);
      },
    });
    this.agentGauge('hive_agent_up', 'Whether an agent can take tasks (1) or is offline or disabled (0).', (a) =>
      a.status === 'offline' ? 0 : 1,
    );
    this.agentGauge(
      'hive_agent_inflight',
      'Tasks an agent is running now (in_progress and assigned to it).',
      (a) => a.current_tasks,
    );
    this.agentGauge(
      'hive_agent_capacity',
      'Tasks an agent may run at once (its max_concurrent).',
      (a) => a.max_concurrent,
    );
  }

  private agentGauge(name: string, help: string, value: AgentValue): void {
    const snapshots = this.snapshots;
    new Gauge({
      name,
      help,
      labelNames: ['agent'],
      registers: [this.registry],
      async collect() {
        const snapshot = await snapshots.read();
        this.reset();
        for (const agent of snapshot?.agents ?? []) this.set({ agent: agent.id }, value(agent));
      },
    });
  }
}
