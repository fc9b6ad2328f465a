import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'undici';
import { HiveConfig } from '@hive/config';
import type { AgentCallError } from '../client/agent-call-error.js';
import { transportFailure } from '../client/agent-failure.js';
import {
  exchange,
  streamExchange,
  type AnswerHeaders,
  type Destination,
  type Exchange,
  type ExchangeOptions,
  type StreamedExchange,
} from '../client/http-exchange.js';
import type { AgentTarget } from './protocol-adapter.js';

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** What a protocol makes of an answer with a status other than 2xx. */
export type StatusFailure = (status: number, body: string, headers: AnswerHeaders) => AgentCallError;

/** What an adapter sets of a request; the pool, the size limit and the agent's key are added here. */
export type AgentRequest = Pick<ExchangeOptions, 'method' | 'body' | 'signal'>;

/** The connections of one agent at one endpoint, sized for its max_concurrent. */
interface AgentPool extends Destination {
  pool: Pool;
  size: number;
  /** Basic credentials written in the endpoint's URL, sent when the agent has no key of its own. */
  basicAuth?: string;
}

/** The lines of a streamed answer, with a failure to read them turned into an AgentCallError. */
async function* failingAs(lines: AsyncIterable<string>, signal: AbortSignal): AsyncGenerator<string> {
  try {
    yield* lines;
  } catch (error) {
    throw transportFailure(error, signal);
  }
}

/**
 * Hive's one HTTP client to agents, whatever their protocol: keep-alive sockets, a bounded pool per agent, a connect
 * timeout, the agent's key as a bearer token, and every call abortable through its signal. A call that gets no
 * answer rejects with an AgentCallError (transportFailure); what an answer means is the adapter's to say.
 */
@Injectable()
export class AgentHttp implements OnApplicationShutdown {
  private readonly pools = new Map<string, AgentPool>();

  constructor(private readonly config: HiveConfig) {}

  /** How long a probe may take (HTTP_TIMEOUT_MS). */
  probeSignal(): AbortSignal {
    return AbortSignal.timeout(this.config.httpTimeoutMs);
  }

  async send(agent: AgentTarget, path: string, request: AgentRequest): Promise<Exchange> {
    try {
      const to = this.pool(agent);
      return await exchange(to, path, this.options(agent, to, request));
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
      const to = this.pool(agent);
      res = await streamExchange(to, path, this.options(agent, to, request));
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
   * Retires an agent's pools (its endpoint changed or it was removed): idle connections close now, busy ones once
   * their call has ended, so no call in flight is cut.
   */
  forget(agentId: string): void {
    for (const [key, entry] of this.pools) {
      if (key.startsWith(`${agentId} `)) {
        this.pools.delete(key);
        retire(entry);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(({ pool }) => pool.destroy().catch(() => undefined)));
  }

  private options(agent: AgentTarget, to: AgentPool, request: AgentRequest): ExchangeOptions {
    const authorization = agent.apiKey === undefined ? to.basicAuth : `Bearer ${agent.apiKey}`;
    return {
      ...request,
      maxBytes: MAX_ANSWER_BYTES,
      ...(authorization === undefined ? {} : { headers: { authorization } }),
    };
  }

  /**
   * One keep-alive pool per agent and endpoint, of the agent's concurrency plus one spare connection for probes; a
   * new max_concurrent replaces it (the old one closes once its calls have ended). No headers or body timeout: a
   * call is bounded by its task's timeout, through its signal.
   */
  private pool(agent: AgentTarget): AgentPool {
    const key = poolKey(agent);
    const size = agent.max_concurrent + 1;
    const current = this.pools.get(key);
    if (current?.size === size) return current;
    if (current === undefined) this.forget(agent.id);
    else retire(current);
    const url = new URL(agent.endpoint);
    const entry: AgentPool = {
      pool: new Pool(url.origin, {
        connections: size,
        connect: { timeout: this.config.httpTimeoutMs },
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
      size,
      basePath: url.pathname.replace(/\/+$/, ''),
      ...(url.username === '' ? {} : { basicAuth: basicAuthOf(url) }),
    };
    this.pools.set(key, entry);
    return entry;
  }
}

const poolKey = (agent: AgentTarget): string => `${agent.id} ${agent.endpoint}`;

/** The Authorization of credentials written in a URL (`http://user:password@host`), as a browser would send them. */
const basicAuthOf = (url: URL): string =>
  `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;

/** Closes a pool once the calls it carries have ended. */
function retire({ pool }: AgentPool): void {
  void pool.close().catch(() => undefined);
}
