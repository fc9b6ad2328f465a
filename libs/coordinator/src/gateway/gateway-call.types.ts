import type { GatewayDialect, TaskOperation } from '@hive/database';
import type { AnswerChunk, OperationInput, TaskResult } from '../operations/operation-types.js';

/** One call of an LLM client, as a task: its operation and input in Hive's shape. */
export interface GatewayCallRequest {
  dialect: GatewayDialect;
  operation: TaskOperation;
  model: string;
  input: OperationInput['input'];
  priority: number;
  /** The client takes the answer in pieces as the agent produces them. */
  stream: boolean;
  /** How long it may stay in the queue before it is refused. */
  queueTimeoutMs: number;
}

/** The attempt the client hears from: its task, its agent, and how long it waited for it (ms). */
export interface CallStart {
  taskId: string;
  agentId: string;
  queueMs: number;
}

/** Hears a streamed answer as it comes; pieces arrive once the agent producing them is known. */
export interface GatewayCallObserver {
  onChunk(chunk: AnswerChunk, start: CallStart): void;
}

/** How a call ended for its client. */
export type GatewayCallEnd =
  | { outcome: 'completed'; result: TaskResult; start: CallStart }
  /** The agents failed it (after its attempts, or after its answer began), or someone cancelled the task. */
  | { outcome: 'failed'; taskId: string; error: string; start?: CallStart }
  | { outcome: 'queue_timeout'; taskId: string }
  | { outcome: 'client_closed'; taskId: string }
  /** This replica is stopping: the call's task is cancelled, and the client may try again on another. */
  | { outcome: 'replica_stopping'; taskId: string; start?: CallStart };
