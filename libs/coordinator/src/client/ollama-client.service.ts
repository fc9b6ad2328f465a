import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import type { AxiosResponse } from 'axios';
import { HiveConfig } from '@hive/config';
import type { AgentAddress } from '@hive/database';
import { statusFailure, transportFailure } from './agent-failure.js';
import { withConnectTimeout } from './connect-timeout.js';
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

  constructor(
    private readonly http: HttpService,
    private readonly config: HiveConfig,
  ) {}

  async generate(
    agent: AgentAddress & { model: string },
    prompt: GeneratePrompt,
    signal: AbortSignal,
  ): Promise<OllamaResult> {
    const body = { model: agent.model, ...prompt, stream: false };
    const res = await this.send(
      () => this.http.axiosRef.post<string>(`${agent.endpoint}/api/generate`, body, this.requestOptions(agent, signal)),
      signal,
    );
    if (res.status >= 200 && res.status < 300) return parseGenerateAnswer(res.data);
    throw statusFailure(res.status, res.data);
  }

  /** GET /api/tags: the cheap liveness call of an Ollama server. */
  async probe(agent: AgentAddress): Promise<void> {
    const signal = AbortSignal.timeout(this.config.httpTimeoutMs);
    const res = await this.send(
      () => this.http.axiosRef.get<string>(`${agent.endpoint}/api/tags`, this.requestOptions(agent, signal)),
      signal,
    );
    if (res.status !== 200) throw statusFailure(res.status, res.data);
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

  private requestOptions(agent: AgentAddress, signal: AbortSignal) {
    const pool = this.pool(agent);
    return {
      signal,
      responseType: 'text' as const,
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxContentLength: MAX_ANSWER_BYTES,
      maxRedirects: 0,
      proxy: false as const,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(pool instanceof HttpsAgent ? { httpsAgent: pool } : { httpAgent: pool }),
    };
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

  private async send(call: () => Promise<AxiosResponse<string>>, signal: AbortSignal): Promise<AxiosResponse<string>> {
    try {
      return await call();
    } catch (error) {
      throw transportFailure(error, signal);
    }
  }
}
