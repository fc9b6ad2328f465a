import { Injectable } from '@nestjs/common';
import { describeError, type AgentAddress, type ProbeReport } from '@hive/database';
import { AgentSecrets } from '../agents/agent-secrets.js';
import { AgentCallError } from '../client/agent-call-error.js';
import type { ChunkListener, TaskResult } from '../operations/operation-types.js';
import { AgentHttp } from './agent-http.service.js';
import type { AgentCall, AgentTarget, ProtocolAdapter } from './protocol-adapter.js';
import { createAdapters } from './protocols.js';

/**
 * Calls an agent in its own protocol (its `kind`), with its API key decrypted for the call. Every failure is an
 * AgentCallError: a key that cannot be decrypted is one of kind `auth`, as if the agent had refused it.
 */
@Injectable()
export class AgentClient {
  private readonly adapters: ReadonlyMap<string, ProtocolAdapter>;

  constructor(
    private readonly http: AgentHttp,
    private readonly secrets: AgentSecrets,
  ) {
    this.adapters = createAdapters(http);
  }

  /** The models the agent serves (and those loaded, when its protocol tells), within HTTP_TIMEOUT_MS. */
  async probe(agent: AgentAddress): Promise<ProbeReport> {
    const target = await this.target(agent);
    return withoutKey(target, () => this.adapter(agent).probe(target, this.http.probeSignal()));
  }

  async run(agent: AgentAddress, call: AgentCall, signal: AbortSignal, onChunk?: ChunkListener): Promise<TaskResult> {
    const target = await this.target(agent);
    return withoutKey(target, () => this.adapter(agent).run(target, call, signal, onChunk));
  }

  /** Forgets an agent's connections (its endpoint changed, or it was removed). */
  forget(agentId: string): void {
    this.http.forget(agentId);
  }

  private adapter(agent: AgentAddress): ProtocolAdapter {
    const adapter = this.adapters.get(agent.kind);
    // The API accepts only known kinds; a row written otherwise is the agent's misconfiguration.
    if (adapter === undefined)
      throw new AgentCallError('auth', `agent kind "${agent.kind}" is not a protocol Hive speaks`);
    return adapter;
  }

  private async target({ api_key_encrypted, ...address }: AgentAddress): Promise<AgentTarget> {
    if (api_key_encrypted === null) return address;
    try {
      return { ...address, apiKey: await this.secrets.decrypt(address.id, api_key_encrypted) };
    } catch (error) {
      throw new AgentCallError('auth', `its api_key cannot be decrypted with HIVE_SECRET_KEY: ${describeError(error)}`);
    }
  }
}

/**
 * Runs a call to the agent; a failure whose text quotes the agent's key (some proxies repeat the key they refused in
 * their error body) has it replaced, since that text becomes the task's error, the agent's last_error and log lines.
 */
async function withoutKey<T>({ apiKey }: AgentTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (apiKey === undefined || !(error instanceof AgentCallError) || !error.message.includes(apiKey)) throw error;
    const message = error.message.replaceAll(apiKey, '[redacted]');
    throw new AgentCallError(error.kind, message, error.status, error.retryAfterMs);
  }
}
