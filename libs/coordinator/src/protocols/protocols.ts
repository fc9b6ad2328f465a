import type { AgentHttp } from './agent-http.service.js';
import { OllamaAdapter } from './ollama/ollama.adapter.js';
import { OpenAiAdapter } from './openai/openai.adapter.js';
import type { ProtocolAdapter } from './protocol-adapter.js';

/** The protocols agents may speak, by the `kind` an agent is registered with: a new protocol is one more line. */
const PROTOCOLS = {
  ollama: OllamaAdapter,
  openai: OpenAiAdapter,
} satisfies Record<string, new (http: AgentHttp) => ProtocolAdapter>;

export type AgentKind = keyof typeof PROTOCOLS;
export const AGENT_KINDS = Object.keys(PROTOCOLS) as AgentKind[];

/** One adapter per protocol, sharing Hive's HTTP client to agents. */
export function createAdapters(http: AgentHttp): ReadonlyMap<string, ProtocolAdapter> {
  return new Map(Object.entries(PROTOCOLS).map(([kind, Adapter]) => [kind, new Adapter(http)]));
}
