import type { AgentAddress, ProbeReport } from '@hive/database';
import type { ChunkListener, OperationInput, TaskResult } from '../operations/operation-types.js';

/** An agent as an adapter calls it: where it is, and its API key in clear (decrypted for this call only). */
export interface AgentTarget extends Omit<AgentAddress, 'api_key_encrypted'> {
  apiKey?: string;
}

/** One call: an operation with its input, on a model (the name the agent serves it by). */
export type AgentCall = OperationInput & { model: string };

/**
 * One LLM protocol (docs/architecture.md, "Agents and protocols"). An adapter turns Hive's operations into the
 * protocol's requests and its answers into Hive's result shape, and says what each failure means by throwing an
 * AgentCallError of the right kind (retryable, the agent's fault, the caller's fault, a missing model). Adding a
 * protocol is a folder of its own and one line in protocols.ts.
 */
export interface ProtocolAdapter {
  /** The models the agent serves and, when the protocol tells, those loaded now. */
  probe(agent: AgentTarget, signal: AbortSignal): Promise<ProbeReport>;
  /**
   * Runs the call. With `onChunk` the answer is streamed from the agent and each piece handed over as it arrives;
   * the result is the whole answer either way.
   */
  run(agent: AgentTarget, call: AgentCall, signal: AbortSignal, onChunk?: ChunkListener): Promise<TaskResult>;
}
