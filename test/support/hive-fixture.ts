import { HiveApi } from './api.js';
import { startHive, type RunningHive } from './hive-app.js';
import { startOllamaAgent, type AgentBehavior, type OllamaAgent, type OllamaAgentOptions } from './ollama-agent.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { TEST_ADMIN_KEY } from './test-keys.js';

/**
 * The environment of the coordinator suites' Hives: the test admin key (HiveApi sends it), a rate limit the
 * polling helpers never reach, and timings small enough for tests: retries after ~20 ms, a poll every 200 ms,
 * probes every 200 ms, an agent offline after 2 failures, a 2 s shutdown grace. Probe and connect timeouts stay at
 * 2 s so that a loaded test machine does not take agents offline.
 */
export const FAST_COORDINATOR_ENV: Readonly<Record<string, string>> = {
  HIVE_ADMIN_API_KEY: TEST_ADMIN_KEY,
  THROTTLE_LIMIT: '1000000',
  TASK_RETRY_BASE_MS: '20',
  TASK_LEASE_MS: '3000',
  QUEUE_POLL_MS: '200',
  AGENT_PROBE_INTERVAL_MS: '200',
  AGENT_MAX_FAILURES: '2',
  HTTP_TIMEOUT_MS: '2000',
  SHUTDOWN_GRACE_MS: '2000',
};

/** Ollama-protocol agents a suite started; closeAll() ends every one of them. */
export class AgentFleet {
  private readonly agents: OllamaAgent[] = [];

  async start(options: OllamaAgentOptions = {}): Promise<OllamaAgent> {
    const agent = await startOllamaAgent(options);
    this.agents.push(agent);
    return agent;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.agents.map((a) => a.close()));
  }
}

/** Closes in order, every step even when an earlier one fails; the first error is rethrown at the end. */
export async function closeAll(steps: readonly (() => Promise<unknown> | undefined)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
}

/** One suite's world: its own database, an in-process Hive on it, an API client, and the agents it starts. */
export interface HiveFixture {
  readonly db: TestDatabase;
  readonly hive: RunningHive;
  readonly api: HiveApi;
  readonly agents: AgentFleet;
  close(): Promise<void>;
}

export async function startHiveFixture(env: Record<string, string> = {}): Promise<HiveFixture> {
  const db = await createTestDatabase();
  const agents = new AgentFleet();
  let hive: RunningHive;
  try {
    hive = await startHive({ DATABASE_URL: db.url, ...FAST_COORDINATOR_ENV, ...env });
  } catch (error) {
    await db.drop();
    throw error;
  }
  return {
    db,
    hive,
    api: new HiveApi(hive.url),
    agents,
    close: () => closeAll([() => hive.close(), () => agents.closeAll(), () => db.drop()]),
  };
}

/** A fixture whose Hive reaches its database through a TCP proxy the test switches (see tcp-proxy.ts). */
export interface ProxiedHiveFixture extends HiveFixture {
  readonly proxy: TcpProxy;
}

export async function startProxiedHiveFixture(env: Record<string, string> = {}): Promise<ProxiedHiveFixture> {
  const db = await createTestDatabase();
  const server = new URL(db.url);
  const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  const agents = new AgentFleet();
  let hive: RunningHive;
  try {
    hive = await startHive({ DATABASE_URL: proxy.rewrite(db.url), ...FAST_COORDINATOR_ENV, ...env });
  } catch (error) {
    await closeAll([() => proxy.close(), () => db.drop()]);
    throw error;
  }
  return {
    db,
    hive,
    proxy,
    api: new HiveApi(hive.url),
    agents,
    close: () =>
      closeAll([
        () => Promise.resolve(proxy.setMode('forward')),
        () => hive.close(),
        () => agents.closeAll(),
        () => proxy.close(),
        () => db.drop(),
      ]),
  };
}

/**
 * The fixture of a whole describe block: started before its tests, closed after them. The getter throws when the
 * start failed, so each test reports that instead of a TypeError.
 */
export function suiteFixture(env: Record<string, string> = {}): () => HiveFixture {
  let fx: HiveFixture | undefined;
  beforeAll(async () => {
    fx = await startHiveFixture(env);
  });
  afterAll(async () => {
    await fx?.close();
  });
  return () => {
    if (fx === undefined) throw new Error('the fixture did not start');
    return fx;
  };
}

/** The prompt of a task in the order tests: its priority and its position among the submitted. */
export const orderPrompt = (priority: number, position: number): string => `p${priority}-#${position}`;

/** The prompts in the order an agent must receive them: priority 5 first, then the order of submission. */
export function dispatchOrder(priorities: readonly number[]): string[] {
  return priorities
    .map((priority, position) => ({ priority, position }))
    .sort((a, b) => b.priority - a.priority || a.position - b.position)
    .map(({ priority, position }) => orderPrompt(priority, position));
}

/**
 * Makes the first of two agents that receives a request misbehave with `bad`, and the other one answer normally
 * from then on, whichever agent Hive picks first. `first()` tells which agent that was (once a request arrived).
 */
export function firstRequestFails(
  pair: readonly [OllamaAgent, OllamaAgent],
  bad: AgentBehavior,
): { first(): OllamaAgent | undefined } {
  let first: OllamaAgent | undefined;
  for (const agent of pair) agent.setBehavior(bad);
  const stops = pair.map((agent, i) =>
    agent.onRequest(() => {
      for (const stop of stops) stop();
      pair[1 - i]?.setBehavior({ kind: 'ok' });
      first = agent;
    }),
  );
  return { first: () => first };
}
