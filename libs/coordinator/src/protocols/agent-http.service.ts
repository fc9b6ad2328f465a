import { Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import type { AgentCallError } from '../client/agent-call-error.js';
import { transportFailure } from '../client/agent-failure.js';
import { withConnectTimeout } from '../client/connect-timeout.js';
import {
  exchange,
  streamExchange,
  type Exchange,
  type ExchangeOptions,
  type StreamedExchange,
} from '../client/http-exchange.js';
import type { AgentTarget } from './protocol-adapter.js';

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** What a protocol makes of an answer with a status other than 2xx. */
export type StatusFailure = (status: number, body: string, headers: IncomingHttpHeaders) => AgentCallError;

/** What an adapter sets of a request; the pool, the size limit and the agent's key are added here. */
export type AgentRequest = Pick<ExchangeOptions, 'method' | 'body' | 'signal'>;

/** The lines of a streamed answer, with a failure to read them turned into an AgentCallError. */
async function* failingAs(lines: AsyncIterable<string>, signal: AbortSignal): AsyncGenerator<string> {
  try {
    yield* lines;
  } catch (error) {
    throw transportFailure(error, signal);
  }
}

/** Stops a pool from keeping sockets: Node's agent then closes each busy socket when its response has ended. */
function retire(pool: HttpAgent): void {
  (pool as HttpAgent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(pool.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/**
 * Hive's one HTTP client to agents, whatever their protocol: keep-alive sockets, a bounded pool per agent, a connect
 * timeout, the agent's key as a bearer token, and every call abortable through its signal. A call that gets no
 * answer rejects with an AgentCallError (transportFailure); what an answer means is the adapter's to say.
 */
@Injectable()
export class AgentHttp implements OnApplicationShutdown {
  private readonly pools = new Map<string, HttpAgent>();

  constructor(private readonly config: HiveConfig) {}

  /** How long a probe may take (HTTP_TIMEOUT_MS). */
  probeSignal(): AbortSignal {
    return AbortSignal.timeout(this.config.httpTimeoutMs);
  }

  async send(agent: AgentTarget, path: string, request: AgentRequest): Promise<Exchange> {
    try {
      return await exchange(`${agent.endpoint}${path}`, this.options(agent, request));
    } catch (error) {
      throw transportFailure(error, request.signal);
    }
  }

  /**
   * The lines of a 2xx answer as they arrive; they reject as `send` would when the answer breaks off. Any other
   * status is read whole and thrown as what the protocol says it means (`failure`).
   */
  async stream(
    agent: AgentTarget,
    path: string,
    request: AgentRequest,
    failure: StatusFailure,
  ): Promise<AsyncIterable<string>> {
    let res: StreamedExchange;
    try {
      res = await streamExchange(`${agent.endpoint}${path}`, this.options(agent, request));
    } catch (error) {
      throw transportFailure(error, request.signal);
    }
    const lines = failingAs(res.lines, request.signal);
    if (res.status >= 200 && res.status < 300) return lines;
    const body: string[] = [];
    for await (const line of lines) body.push(line);
    throw failure(res.status, body.join('\n'), res.headers);
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

  private options(agent: AgentTarget, request: AgentRequest): ExchangeOptions {
    return {
      ...request,
      agent: this.pool(agent),
      maxBytes: MAX_ANSWER_BYTES,
      ...(agent.apiKey === undefined ? {} : { headers: { authorization: `Bearer ${agent.apiKey}` } }),
    };
  }

  /**
   * One keep-alive pool per agent and endpoint, sized to the agent's concurrency plus one spare for probes; a new
   * max_concurrent resizes it in place.
   */
  private pool(agent: AgentTarget): HttpAgent {
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
}
