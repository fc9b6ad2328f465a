import { Module } from '@nestjs/common';
import { HttpModule } from '@nestjs/axios';
import { CoordinatorState } from './coordinator-state.js';
import { CoordinatorMetrics, coordinatorMetricProviders } from './coordinator.metrics.js';
import { OllamaClient } from './client/ollama-client.service.js';
import { AgentHealth } from './agents/agent-health.js';
import { AgentProber } from './agents/agent-prober.service.js';
import { AgentRegistry } from './agents/agent-registry.service.js';
import { Dispatcher } from './dispatch/dispatcher.service.js';
import { QueueAnnouncer } from './dispatch/queue-announcer.js';
import { TaskRunner } from './dispatch/task-runner.js';
import { TaskService } from './tasks/task.service.js';
import { TaskRetention } from './tasks/task-retention.service.js';

/** The agent registry, the durable task queue and the dispatcher that runs it. */
@Module({
  imports: [HttpModule],
  providers: [
    ...coordinatorMetricProviders,
    CoordinatorMetrics,
    CoordinatorState,
    OllamaClient,
    AgentHealth,
    AgentProber,
    AgentRegistry,
    TaskRunner,
    Dispatcher,
    QueueAnnouncer,
    TaskService,
    TaskRetention,
  ],
  exports: [CoordinatorState, AgentRegistry, TaskService],
})
export class CoordinatorModule {}
