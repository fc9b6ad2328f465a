import { Module } from '@nestjs/common';
import { CoordinatorState } from './coordinator-state.js';
import { AgentHealth } from './agents/agent-health.js';
import { AgentSecrets } from './agents/agent-secrets.js';
import { AgentProber } from './agents/agent-prober.service.js';
import { AgentRegistry } from './agents/agent-registry.service.js';
import { CompletionWriter } from './dispatch/completion-writer.js';
import { Dispatcher } from './dispatch/dispatcher.service.js';
import { LeaseKeeper } from './dispatch/lease-keeper.js';
import { QueueAnnouncer } from './dispatch/queue-announcer.js';
import { RunningCalls } from './dispatch/running-calls.js';
import { TaskOutcomes } from './dispatch/task-outcomes.js';
import { TaskRunner } from './dispatch/task-runner.js';
import { CoordinatorMetrics, coordinatorMetricProviders } from './metrics/coordinator.metrics.js';
import { QueueMetrics } from './metrics/queue.metrics.js';
import { QueueSnapshotReader } from './metrics/queue-snapshot.js';
import { SubmissionWriter } from './tasks/submission-writer.js';
import { TaskService } from './tasks/task.service.js';
import { TaskRetention } from './tasks/task-retention.service.js';
import { AgentClient } from './protocols/agent-client.service.js';
import { AgentHttp } from './protocols/agent-http.service.js';
import { WebhookAttempt } from './webhooks/webhook-attempt.js';
import { WebhookSender } from './webhooks/webhook-sender.service.js';
import { WebhookBacklogMetrics, WebhookMetrics, webhookMetricProviders } from './webhooks/webhook.metrics.js';
import { DeliveryMetrics } from './delivery/delivery.metrics.js';
import { TaskEvents } from './delivery/task-events.service.js';
import { TaskFeed } from './delivery/task-feed.service.js';
import { TaskWaiting } from './delivery/task-waiting.service.js';
import { TokenRelay } from './delivery/token-relay.service.js';
import { GatewayCalls } from './gateway/gateway-calls.service.js';
import { GatewayMetrics, gatewayMetricProviders } from './gateway/gateway.metrics.js';
import { LocalCalls } from './gateway/local-calls.js';
import { ModelCatalog } from './gateway/model-catalog.js';

/** The agent registry, the durable task queue and the dispatcher that runs it, with their metrics. */
@Module({
  providers: [
    ...coordinatorMetricProviders,
    CoordinatorMetrics,
    QueueSnapshotReader,
    QueueMetrics,
    CoordinatorState,
    AgentHttp,
    AgentSecrets,
    AgentClient,
    AgentHealth,
    AgentProber,
    AgentRegistry,
    QueueAnnouncer,
    RunningCalls,
    CompletionWriter,
    TaskOutcomes,
    TaskRunner,
    LeaseKeeper,
    Dispatcher,
    SubmissionWriter,
    TaskService,
    TaskRetention,
    ...webhookMetricProviders,
    WebhookMetrics,
    WebhookBacklogMetrics,
    WebhookAttempt,
    WebhookSender,
    TaskFeed,
    TaskWaiting,
    TaskEvents,
    TokenRelay,
    DeliveryMetrics,
    ...gatewayMetricProviders,
    GatewayMetrics,
    LocalCalls,
    GatewayCalls,
    ModelCatalog,
  ],
  exports: [
    CoordinatorState,
    AgentRegistry,
    TaskService,
    TaskEvents,
    WebhookSender,
    GatewayCalls,
    GatewayMetrics,
    ModelCatalog,
  ],
})
export class CoordinatorModule {}
