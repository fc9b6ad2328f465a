import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { AgentHealth } from '../agents/agent-health.js';
import { AbortReason, AgentCallError } from '../client/agent-call-error.js';
import { OllamaClient } from '../client/ollama-client.service.js';
import type { OllamaResult } from '../client/ollama-answer.js';
import { buildPrompt } from '../client/prompt.js';
import { CoordinatorMetrics } from '../coordinator.metrics.js';
import type { ClaimedTask } from './claim-tasks.js';
import { retryDelay } from './retry-delay.js';
import type { TaskOutcomes } from './task-outcomes.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Runs one claimed task on its agent and records how it ended. */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');

  constructor(
    private readonly config: HiveConfig,
    private readonly client: OllamaClient,
    private readonly agentHealth: AgentHealth,
    private readonly metrics: CoordinatorMetrics,
  ) {}

  /**
   * Resolves once the outcome is stored. `scheduleWake` is told when a retry becomes due, so the queue is looked
   * at again then rather than at the next poll.
   */
  async run(
    task: ClaimedTask,
    controller: AbortController,
    outcomes: TaskOutcomes,
    scheduleWake: (delayMs: number) => void,
  ): Promise<void> {
    const timeoutMs = task.timeout_ms ?? this.config.coordinator.agentTaskTimeoutMs;
    const timer = setTimeout(
      () =>
        controller.abort(new AbortReason('timeout', `agent ${task.agent.id} gave no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const started = performance.now();
    let result: OllamaResult;
    try {
      result = await this.client.generate(task.agent, buildPrompt(task.type, task.context), controller.signal);
    } catch (error) {
      const failure = error instanceof AgentCallError ? error : new AgentCallError('malformed', String(error));
      this.metrics.agentCall(task.agent.id, failure.kind, seconds(started));
      await this.recordFailure(task, failure, controller.signal, outcomes, scheduleWake, started);
      return;
    } finally {
      clearTimeout(timer);
    }
    this.metrics.agentCall(task.agent.id, 'success', seconds(started));
    this.metrics.llmTokens(task.agent.id, task.agent.model, result.prompt_eval_count, result.eval_count);
    if (await outcomes.complete(task.id, task.agent.id, result)) {
      this.metrics.taskFinished(task.type, 'completed', seconds(started));
    } else {
      this.logger.warn(
        `Task ${task.id} finished on ${task.agent.id} after it was cancelled or reassigned; result dropped`,
      );
    }
  }

  private async recordFailure(
    task: ClaimedTask,
    failure: AgentCallError,
    signal: AbortSignal,
    outcomes: TaskOutcomes,
    scheduleWake: (delayMs: number) => void,
    started: number,
  ): Promise<void> {
    const reason: unknown = signal.reason;
    if (failure.kind === 'shutdown') {
      await outcomes.release(task.id, task.agent.id);
      return;
    }
    if (failure.kind === 'cancelled') {
      // The row was already changed by whoever cancelled or reaped it; count only a real cancellation.
      if (reason instanceof AbortReason && reason.kind === 'cancelled') {
        this.metrics.taskFinished(task.type, 'cancelled', seconds(started));
      }
      return;
    }
    const message = `agent ${task.agent.id}: ${failure.message}`;
    if (failure.agentFault) await this.agentHealth.recordFailure(task.agent.id, failure.message);
    if (failure.retryable && task.attempts < task.max_attempts) {
      const delay = retryDelay(this.config.coordinator.taskRetryBaseMs, task.attempts);
      if (await outcomes.retry(task.id, task.agent.id, message, delay)) {
        this.metrics.taskRetried(task.type);
        scheduleWake(delay);
      }
      return;
    }
    if (await outcomes.fail(task.id, task.agent.id, message))
      this.metrics.taskFinished(task.type, 'failed', seconds(started));
  }
}
