import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, isDataException, type ClaimedTask } from '@hive/database';
import { AgentHealth } from '../agents/agent-health.js';
import { AbortReason, AgentCallError } from '../client/agent-call-error.js';
import type { OllamaResult } from '../client/ollama-answer.js';
import { OllamaClient } from '../client/ollama-client.service.js';
import { buildPrompt } from '../client/prompt.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import { retryDelay } from './retry-delay.js';
import { TaskOutcomes, type CallRef } from './task-outcomes.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** How a run ended, for the dispatcher: a retry comes due after `retryInMs`. */
export interface RunEnd {
  retryInMs?: number;
}

/** Runs one claimed task on its agent and records how it ended. */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');

  constructor(
    private readonly config: HiveConfig,
    private readonly client: OllamaClient,
    private readonly agentHealth: AgentHealth,
    private readonly outcomes: TaskOutcomes,
    private readonly metrics: CoordinatorMetrics,
  ) {}

  /** Resolves once the outcome is stored. `controller` aborts the call (cancel, shutdown, lost lease, timeout). */
  async run(task: ClaimedTask, controller: AbortController): Promise<RunEnd> {
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
      return this.recordFailure(task, failure, controller.signal, started);
    } finally {
      clearTimeout(timer);
    }
    this.metrics.agentCall(task.agent.id, 'success', seconds(started));
    this.metrics.llmTokens(task.agent.id, task.agent.model, result.prompt_eval_count, result.eval_count);
    let stored: boolean;
    try {
      stored = await this.outcomes.complete(callOf(task), result);
    } catch (error) {
      // An answer PostgreSQL refuses (a NUL character in the text): the call itself succeeded (and is counted so),
      // but its answer is malformed for Hive, and another run may answer storably.
      if (!isDataException(error)) throw error;
      const unstorable = new AgentCallError('malformed', `its answer cannot be stored: ${describeError(error)}`);
      return this.recordFailure(task, unstorable, controller.signal, started);
    }
    if (stored) {
      this.metrics.taskFinished(task.type, 'completed', seconds(started));
    } else {
      this.logger.warn(
        { taskId: task.id, agentId: task.agent.id },
        `Task ${task.id} finished on ${task.agent.id} after it was cancelled or reassigned; result dropped`,
      );
    }
    return {};
  }

  private async recordFailure(
    task: ClaimedTask,
    failure: AgentCallError,
    signal: AbortSignal,
    started: number,
  ): Promise<RunEnd> {
    const call = callOf(task);
    if (failure.kind === 'shutdown') {
      await this.outcomes.release(call);
      return {};
    }
    if (failure.kind === 'cancelled') {
      // The row was already changed by whoever cancelled or reaped it; count only a real cancellation.
      const reason: unknown = signal.reason;
      if (reason instanceof AbortReason && reason.kind === 'cancelled') {
        this.metrics.taskFinished(task.type, 'cancelled', seconds(started));
      }
      return {};
    }
    const end = await this.retryOrFail(task, failure, started);
    // After the outcome, and best effort: an unreachable database must not keep the outcome from being written.
    if (failure.agentFault) {
      await this.agentHealth
        .recordFailure(task.agent.id, failure.message)
        .catch((error: unknown) =>
          this.logger.warn(
            { agentId: task.agent.id, err: describeError(error) },
            `Counting a failure of agent ${task.agent.id} failed: ${describeError(error)}`,
          ),
        );
    }
    return end;
  }

  /** Back to the queue after a backoff while attempts are left and the failure may pass; failed otherwise. */
  private async retryOrFail(task: ClaimedTask, failure: AgentCallError, started: number): Promise<RunEnd> {
    const call = callOf(task);
    const message = `agent ${task.agent.id}: ${failure.message}`;
    if (failure.retryable && task.attempts < task.max_attempts) {
      const delay = retryDelay(this.config.coordinator.taskRetryBaseMs, task.attempts);
      if (!(await this.outcomes.retry(call, message, delay))) return {};
      this.metrics.taskRetried(task.type);
      return { retryInMs: delay };
    }
    if (await this.outcomes.fail(call, message)) this.metrics.taskFinished(task.type, 'failed', seconds(started));
    return {};
  }
}

const callOf = (task: ClaimedTask): CallRef => ({ taskId: task.id, agentId: task.agent.id });
