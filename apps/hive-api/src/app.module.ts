import { type DynamicModule, Module } from '@nestjs/common';
import { HiveConfig, HiveConfigModule } from '@hive/config';
import { DatabaseModule } from '@hive/database';
import { CoordinatorModule } from '@hive/coordinator';
import { HealthModule } from '@hive/health';
import { MetricsModule } from '@hive/metrics';
import { RootController } from './root/root.controller.js';
import { AgentsController } from './agents/agents.controller.js';
import { TasksController } from './tasks/tasks.controller.js';
import { StatusController } from './status/status.controller.js';
import { HealthReportController } from './status/health-report.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { EndpointPolicy } from './agents/endpoint-policy.js';
import { CallbackPolicy } from './tasks/callback-policy.js';
import { TaskDeliveryOptions } from './tasks/task-delivery-options.js';
import { LiveStreams } from './tasks/live/live-streams.js';
import { TaskEventsController } from './tasks/task-events.controller.js';
import { AuthModule } from './auth/auth.module.js';
import { GatewayExchange } from './gateway/gateway-exchange.js';
import { OllamaController } from './gateway/ollama/ollama.controller.js';
import { OpenAiController } from './gateway/openai/openai.controller.js';

@Module({})
export class AppModule {
  static forRoot(config: HiveConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HiveConfigModule.forRoot(config),
        AuthModule.forRoot(config),
        DatabaseModule,
        CoordinatorModule,
        HealthModule,
        MetricsModule,
      ],
      controllers: [
        RootController,
        AgentsController,
        TasksController,
        TaskEventsController,
        StatusController,
        HealthReportController,
        MetricsController,
        OpenAiController,
        OllamaController,
      ],
      providers: [EndpointPolicy, CallbackPolicy, TaskDeliveryOptions, LiveStreams, GatewayExchange],
    };
  }
}
