import { Injectable } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import type { FinalTaskStatus } from '@hive/database';
import type { AgentFailureKind } from '../client/agent-call-error.js';

/** Outcomes of one agent call: success, or why it failed. */
export type AgentCallOutcome = 'success' | AgentFailureKind;

/** The `type` label of tasks that name only a model: not a slug, so no specialty can take it. */
const ANY_TYPE_LABEL = '*';

/** A task's type as a label value ('' or null: the task named only a model). */
const typeLabel = (type: string | null): string => (type === null || type === '' ? ANY_TYPE_LABEL : type);

const TASK_SECONDS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** The metrics the coordinator owns (declared here, registered once, label values bounded by the registry). */
export const coordinatorMetricProviders = [
  makeCounterProvider({
    name: 'hive_tasks_finished_total',
    help: 'Tasks that reached a final state, by task type and outcome (completed, failed, cancelled).',
    labelNames: ['type', 'outcome'],
  }),
  makeHistogramProvider({
    name: 'hive_task_duration_seconds',
    help: 'Time from a task being claimed to its final state, by task type.',
    labelNames: ['type'],
    buckets: TASK_SECONDS,
  }),
  makeHistogramProvider({
    name: 'hive_task_queue_wait_seconds',
    help: 'Time a task waited in the queue before an agent took it (from creation or its retry time), by type.',
    labelNames: ['type'],
    buckets: TASK_SECONDS,
  }),
  makeCounterProvider({
    name: 'hive_task_retries_total',
    help: 'Failed attempts that put a task back in the queue for another try, by task type.',
    labelNames: ['type'],
  }),
  makeCounterProvider({
    name: 'hive_task_lease_expiries_total',
    help: 'Running tasks requeued (or failed) because the replica holding them stopped renewing their lease.',
  }),
  makeCounterProvider({
    name: 'hive_agent_requests_total',
    help: 'Calls to agents by agent and outcome (success or the failure kind).',
    labelNames: ['agent', 'outcome'],
  }),
  makeHistogramProvider({
    name: 'hive_agent_request_duration_seconds',
    help: 'Duration of agent calls that ended in an answer or an HTTP error other than busy or rate limited (not timeouts), by agent.',
    labelNames: ['agent'],
    buckets: TASK_SECONDS,
  }),
  makeCounterProvider({
    name: 'hive_llm_tokens_total',
    help: 'LLM tokens reported by agents, by agent, model and kind (prompt = prompt_eval_count, completion = eval_count).',
    labelNames: ['agent', 'model', 'kind'],
  }),
];

/** Outcomes that mean the agent answered: their duration is the agent's latency. */
const ANSWERED: ReadonlySet<AgentCallOutcome> = new Set([
  'success',
  'client_error',
  'server_error',
  'model_missing',
  'auth',
]);

@Injectable()
export class CoordinatorMetrics {
  constructor(
    @InjectMetric('hive_tasks_finished_total') private readonly finished: Counter<string>,
    @InjectMetric('hive_task_duration_seconds') private readonly duration: Histogram<string>,
    @InjectMetric('hive_task_queue_wait_seconds') private readonly queueWait: Histogram<string>,
    @InjectMetric('hive_task_retries_total') private readonly retries: Counter<string>,
    @InjectMetric('hive_task_lease_expiries_total') private readonly leaseExpiries: Counter<string>,
    @InjectMetric('hive_agent_requests_total') private readonly agentRequests: Counter<string>,
    @InjectMetric('hive_agent_request_duration_seconds') private readonly agentLatency: Histogram<string>,
    @InjectMetric('hive_llm_tokens_total') private readonly tokens: Counter<string>,
  ) {}

  taskClaimed(type: string | null, waitingSince: Date): void {
    this.queueWait.observe({ type: typeLabel(type) }, Math.max(0, (Date.now() - waitingSince.getTime()) / 1000));
  }

  taskFinished(type: string | null, outcome: FinalTaskStatus, seconds?: number): void {
    this.finished.inc({ type: typeLabel(type), outcome });
    if (seconds !== undefined) this.duration.observe({ type: typeLabel(type) }, seconds);
  }

  taskRetried(type: string | null): void {
    this.retries.inc({ type: typeLabel(type) });
  }

  leasesExpired(count: number): void {
    if (count > 0) this.leaseExpiries.inc(count);
  }

  agentCall(agent: string, outcome: AgentCallOutcome, seconds: number): void {
    this.agentRequests.inc({ agent, outcome });
    if (ANSWERED.has(outcome)) {
      this.agentLatency.observe({ agent }, seconds);
    }
  }

  llmTokens(agent: string, model: string, prompt: number | null, completion: number | null): void {
    if (prompt !== null) this.tokens.inc({ agent, model, kind: 'prompt' }, prompt);
    if (completion !== null) this.tokens.inc({ agent, model, kind: 'completion' }, completion);
  }
}
