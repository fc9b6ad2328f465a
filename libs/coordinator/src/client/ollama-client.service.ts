import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import type { AgentAddress } from '@hive/database';
import { statusFailure, transportFailure } from './agent-failure.js';
import { withConnectTimeout } from './connect-timeout.js';
import { exchange, type Exchange, type ExchangeOptions } from './http-exchange.js';
import { parseGenerateAnswer, type OllamaResult } from './ollama-answer.js';
import type { GeneratePrompt } from './prompt.js';

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Stops a pool from keeping sockets: Node's agent then closes each busy socket when its response has ended. */
function retire(pool: HttpAgent): void {
  (pool as HttpAgent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(pool.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/**
 * Hive's one HTTP client to agents: keep-alive sockets, a bounded pool per agent, a connect timeout, and every
 * call abortable through its signal.
 */
@Injectable()
export class OllamaClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, HttpAgent>();

  constructor(private readonly config: HiveConfig) {}

  async generate(
    agent: AgentAddress & { model: string },
    prompt: GeneratePrompt,
    signal: AbortSignal,
  ): Promise<OllamaResult> {
    const body = { model: agent.model, ...prompt, stream: false };
    const res = await this.send(`${agent.endpoint}/api/generate`, agent, { method: 'POST', body, signal });
    if (res.status >= 200 && res.status < 300) return parseGenerateAnswer(res.body);
    throw statusFailure(res.status, res.body);
  }

  /** GET /api/tags: the cheap liveness call of an Ollama server. */
  async probe(agent: AgentAddress): Promise<void> {
    const signal = AbortSignal.timeout(this.config.httpTimeoutMs);
    const res = await this.send(`${agent.endpoint}/api/tags`, agent, { method: 'GET', signal });
    if (res.status !== 200) throw statusFailure(res.status, res.body);
  }

  /**
   * Retires an agent's pools (its endpoint changed or it was removed): idle sockets close now, busy ones once their
   * call has ended, so no call in flight is cut.
   */
  forget(agentId: string): void {
    for (const [key, pool] of this.pools) {
      if (key.startsWith(`${agentId} `)) {
        retire(pool);
        this.pools.delete(key);
      }
    }
  }

  onApplicationShutdown(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }

  /**
   * One keep-alive pool per agent and endpoint, sized to the agent's concurrency plus one spare for probes; a new
   * max_concurrent resizes it in place.
   */
  private pool(agent: AgentAddress): HttpAgent {
    const key = `${agent.id} ${agent.endpoint}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      this.forget(agent.id);
      const options = { keepAlive: true };
      const raw = agent.endpoint.startsWith('https:') ? new HttpsAgent(options) : new HttpAgent(options);
      pool = withConnectTimeout(raw, this.config.httpTimeoutMs);
      this.pools.set(key, pool);
    }
    pool.maxSockets = pool.maxFreeSockets = agent.max_concurrent + 1;
    return pool;
  }

  private async send(
    url: string,
    agent: AgentAddress,
    options: Pick<ExchangeOptions, 'method' | 'body' | 'signal'>,
  ): Promise<Exchange> {
    try {
      return await exchange(url, { ...options, agent: this.pool(agent), maxBytes: MAX_ANSWER_BYTES });
    } catch (error) {
      throw transportFailure(error, options.signal);
    }
  }
}
