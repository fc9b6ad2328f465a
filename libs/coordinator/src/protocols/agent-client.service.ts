import { Injectable } from '@nestjs/common';
import { describeError, type AgentAddress, type ProbeReport } from '@hive/database';
import { AgentSecrets } from '../agents/agent-secrets.js';
import { AgentCallError } from '../client/agent-call-error.js';
import type { ChunkListener, TaskResult } from '../operations/operation-types.js';
import { AgentHttp } from './agent-http.service.js';
import type { AgentCall, AgentTarget, ProtocolAdapter } from './protocol-adapter.js';
import { createAdapters } from './protocols.js';

/** Longest failure text kept: it becomes a task's error, an agent's last_error and log lines. */
const MAX_FAILURE_TEXT = 1_000;

/**
 * Calls an agent in its own protocol (its `kind`), with its API key decrypted for the call. Every failure is an
 * AgentCallError, its text cut to a length a row and a log line can hold; an agent this replica cannot call as it is
 * registered (its key does not decrypt here, its kind is unknown) is one of kind `local`, not the agent's fault.
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
    return told(target, () => this.adapter(agent).probe(target, this.http.probeSignal()));
  }

  async run(agent: AgentAddress, call: AgentCall, signal: AbortSignal, onChunk?: ChunkListener): Promise<TaskResult> {
    const target = await this.target(agent);
    return told(target, () => this.adapter(agent).run(target, call, signal, onChunk));
  }

  /**
   * What an Ollama agent tells of a model (POST /api/show), as it answered: the status and the body, within
   * HTTP_TIMEOUT_MS. A failure to reach it is an AgentCallError.
   */
  async showModel(agent: AgentAddress, model: string): Promise<{ status: number; body: string }> {
    const target = await this.target(agent);
    return told(target, async () => {
      const { status, body } = await this.http.send(target, '/api/show', {
        method: 'POST',
        body: { model },
        signal: this.http.probeSignal(),
      });
      return { status, body };
    });
  }

  /** Forgets an agent's connections (its endpoint changed, or it was removed). */
  forget(agentId: string): void {
    this.http.forget(agentId);
  }

  private adapter(agent: AgentAddress): ProtocolAdapter {
    const adapter = this.adapters.get(agent.kind);
    // The API accepts only known kinds: a row of another comes from a newer release, or was written by hand.
    if (adapter === undefined)
      throw new AgentCallError('local', `agent kind "${agent.kind}" is unknown to this replica`);
    return adapter;
  }

  private async target({ api_key_encrypted, ...address }: AgentAddress): Promise<AgentTarget> {
    if (api_key_encrypted === null) return address;
    try {
      return { ...address, apiKey: await this.secrets.decrypt(address.id, api_key_encrypted) };
    } catch (error) {
      throw new AgentCallError(
        'local',
        `its api_key cannot be decrypted with HIVE_SECRET_KEY: ${describeError(error)}`,
      );
    }
  }
}

/**
 * Runs a call to the agent, and tells its failure fit to be stored and logged: the agent's key replaced wherever the
 * text quotes it (some proxies repeat the key they refused), then cut to MAX_FAILURE_TEXT, in that order so that no
 * cut can leave a piece of the key behind.
 */
async function told<T>({ apiKey }: AgentTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof AgentCallError)) throw error;
    const redacted = apiKey === undefined ? error.message : error.message.replaceAll(apiKey, '[redacted]');
    if (redacted === error.message && redacted.length <= MAX_FAILURE_TEXT) throw error;
    const message = redacted.length <= MAX_FAILURE_TEXT ? redacted : `${redacted.slice(0, MAX_FAILURE_TEXT - 1)}…`;
    throw new AgentCallError(error.kind, message, error.status, error.retryAfterMs);
  }
}
