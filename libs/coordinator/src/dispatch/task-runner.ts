import { Injectable, Logger } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { describeError, isDataException, type ClaimedTask } from '@hive/database';
import { AgentHealth } from '../agents/agent-health.js';
import { AbortReason, AgentCallError } from '../client/agent-call-error.js';
import { CoordinatorMetrics } from '../metrics/coordinator.metrics.js';
import { inputFromContext } from '../operations/context-prompt.js';
import type { AnswerChunk, OperationInput, TaskResult } from '../operations/operation-types.js';
import { AgentClient } from '../protocols/agent-client.service.js';
import type { AgentCall } from '../protocols/protocol-adapter.js';
import { TokenRelay } from '../delivery/token-relay.service.js';
import { LocalCalls } from '../gateway/local-calls.js';
import { retryDelay } from './retry-delay.js';
import { TaskOutcomes, type CallRef } from './task-outcomes.js';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** The longest an agent's Retry-After may hold a task back. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** How much later than its retry time a task held back by a pause wakes the dispatcher. */
const PAUSE_END_MARGIN_MS = 100;

/** The call a claimed task makes: its input (stored in Hive's shape), or one built from its context. */
function callOf(task: ClaimedTask): AgentCall {
  const operation =
    task.input === null
      ? inputFromContext(task.operation, task.type, task.context)
      : // Stored by the API after parseTaskInput, in the shape of its operation.
        ({ operation: task.operation, input: task.input } as unknown as OperationInput);
  return { ...operation, model: task.runModel };
}

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
    private readonly client: AgentClient,
    private readonly agentHealth: AgentHealth,
    private readonly outcomes: TaskOutcomes,
    private readonly metrics: CoordinatorMetrics,
    private readonly relay: TokenRelay,
    private readonly localCalls: LocalCalls,
  ) {}

  /**
   * Resolves once the outcome is stored. `controller` aborts the call (cancel, shutdown, lost lease, timeout).
   * `stored`, for a call begun before the claim that placed it committed, says whether that commit landed: until it
   * did, the call runs but nobody hears of it and nothing of it is written; when it did not, the call is aborted
   * and leaves no trace.
   */
  async run(task: ClaimedTask, controller: AbortController, stored?: Promise<boolean>): Promise<RunEnd> {
    try {
      return await this.attempt(
        task,
        controller,
        stored?.then((landed) => landed || unstored(controller)),
      );
    } finally {
      this.localCalls.ended(task.id);
    }
  }

  private async attempt(task: ClaimedTask, controller: AbortController, held?: Promise<boolean>): Promise<RunEnd> {
    const timeoutMs = task.timeout_ms ?? this.config.coordinator.agentTaskTimeoutMs;
    const timer = setTimeout(
      () =>
        controller.abort(new AbortReason('timeout', `agent ${task.agent.id} gave no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const started = performance.now();
    // A streamed call hands its pieces to live-events readers; the last ones are relayed before its end is written.
    const tokens = task.stream ? this.relay.open(task.id, task.event_seq) : undefined;
    // Once a piece of a gateway call's answer went to its client, that client hears from this attempt only.
    let streamed = false;
    const relayed =
      tokens === undefined
        ? undefined
        : (chunk: AnswerChunk) => {
            streamed = true;
            tokens.push(chunk);
          };
    // Pieces that came before the claim committed wait for it, and are dropped if it did not.
    let early: AnswerChunk[] | undefined = held === undefined ? undefined : [];
    const onChunk =
      relayed === undefined ? undefined : (chunk: AnswerChunk) => (early ? early.push(chunk) : relayed(chunk));
    const begin = () => this.localCalls.started(task.id, task.agent.id, task.event_seq);
    if (held === undefined) begin();
    else {
      void held.then((landed) => {
        const waiting = early ?? [];
        early = undefined;
        if (!landed) return;
        begin();
        if (relayed !== undefined) for (const chunk of waiting) relayed(chunk);
      });
    }
    let result: TaskResult;
    try {
      result = await this.client.run(task.agent, callOf(task), controller.signal, onChunk);
    } catch (error) {
      const failure = error instanceof AgentCallError ? error : new AgentCallError('malformed', String(error));
      this.metrics.agentCall(task.agent.id, failure.kind, seconds(started));
      if (held !== undefined && !(await held)) return {};
      await tokens?.close();
      return this.recordFailure(task, failure, controller.signal, started, streamed);
    } finally {
      clearTimeout(timer);
    }
    if (held !== undefined && !(await held)) return {};
    // A gateway client here has every piece already (they reach it as they come): it need not wait for the relay.
    this.localCalls.answered(task.id, result);
    await tokens?.close();
    this.metrics.agentCall(task.agent.id, 'success', seconds(started));
    this.metrics.llmTokens(task.agent.id, task.runModel, result.prompt_eval_count, result.eval_count);
    let stored: boolean;
    try {
      stored = await this.outcomes.complete(heldBy(task), result);
    } catch (error) {
      // An answer PostgreSQL refuses (a NUL character in the text): the call itself succeeded (and is counted so),
      // but its answer is malformed for Hive, and another run may answer storably.
      if (!isDataException(error)) throw error;
      const unstorable = new AgentCallError('malformed', `its answer cannot be stored: ${describeError(error)}`);
      return this.recordFailure(task, unstorable, controller.signal, started, streamed);
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
    streamed: boolean,
  ): Promise<RunEnd> {
    const call = heldBy(task);
    if (failure.kind === 'shutdown') {
      await this.outcomes.release(call);
      this.localCalls.released(task.id);
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
    const end =
      failure.kind === 'model_missing'
        ? await this.reroute(task, failure, started)
        : await this.retryOrFail(task, failure, started, streamed);
    // After the outcome, and best effort: an unreachable database must not keep the outcome from being written.
    if (failure.agentFault) {
      await this.agentHealth
        .recordFailure(task.agent.id, failure.message)
        .catch((error: unknown) => this.warnUncounted(task.agent.id, error));
    }
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > 0) {
      await this.agentHealth
        .recordPause(task.agent.id, Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS))
        .catch((error: unknown) => this.warnUncounted(task.agent.id, error));
      // The pause was written a moment after the retry: waking at the retry's time could find the agent paused still.
      if (end.retryInMs !== undefined) return { retryInMs: end.retryInMs + PAUSE_END_MARGIN_MS };
    }
    return end;
  }

  private warnUncounted(agentId: string, error: unknown): void {
    this.logger.warn(
      { agentId, err: describeError(error) },
      `Recording what a call taught about agent ${agentId} failed: ${describeError(error)}`,
    );
  }

  /**
   * The agent does not serve the task's model (any longer): it is taken off the agent's list, and the task goes to
   * another agent that serves it at once, or fails when none does or no attempt is left.
   */
  private async reroute(task: ClaimedTask, failure: AgentCallError, started: number): Promise<RunEnd> {
    // Before the outcome, unlike the other notes on agents: the task must not be placed on this agent again.
    await this.agentHealth
      .recordModelMissing(task.agent, task.runModel)
      .catch((error: unknown) => this.warnUncounted(task.agent.id, error));
    const status = await this.outcomes.reroute(heldBy(task), `agent ${task.agent.id}: ${failure.message}`);
    if (status === 'pending') {
      this.metrics.taskRetried(task.type);
      return { retryInMs: 0 };
    }
    if (status === 'failed') this.metrics.taskFinished(task.type, 'failed', seconds(started));
    return {};
  }

  /**
   * Back to the queue after a backoff (at least what the agent asked for with Retry-After) while attempts are left
   * and the failure may pass; failed otherwise. A gateway call goes to another agent at once (its client is
   * waiting), unless part of its answer already reached the client: that one fails.
   */
  private async retryOrFail(
    task: ClaimedTask,
    failure: AgentCallError,
    started: number,
    streamed: boolean,
  ): Promise<RunEnd> {
    const call = heldBy(task);
    const message = `agent ${task.agent.id}: ${failure.message}`;
    const gatewayStreamed = task.gateway !== null && streamed;
    if (failure.retryable && task.attempts < task.max_attempts && !gatewayStreamed) {
      const backoff = task.gateway === null ? retryDelay(this.config.coordinator.taskRetryBaseMs, task.attempts) : 0;
      const delay = Math.max(backoff, Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      if (!(await this.outcomes.retry(call, message, delay))) return {};
      this.metrics.taskRetried(task.type);
      return { retryInMs: delay };
    }
    if (await this.outcomes.fail(call, message)) this.metrics.taskFinished(task.type, 'failed', seconds(started));
    return {};
  }
}

const heldBy = (task: ClaimedTask): CallRef => ({ taskId: task.id, agentId: task.agent.id });

/** The claim that began a call did not commit: the call is aborted, and nothing of it written. */
function unstored(controller: AbortController): false {
  controller.abort(new AbortReason('lost', 'the claim that placed it was not stored'));
  return false;
}
