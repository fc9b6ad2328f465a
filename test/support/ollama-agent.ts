/**
 * A real LLM server for Hive's e2e tests and benchmark (node:http, 127.0.0.1, ephemeral port), standing in for a
 * remote Ollama machine or an OpenAI-compatible one (vLLM, llama.cpp): it speaks their wire protocols (streaming
 * and error bodies included), simulates model memory, and lets a test choose how it misbehaves. The code lives in
 * ./test-agent/; this entry is what tests and the benchmark import. It no longer runs standalone
 * (`node test/support/ollama-agent.ts`): Node's type stripping cannot resolve the `.js` imports of the split files.
 */
export { startOllamaAgent } from './test-agent/server.js';
export type {
  AgentBehavior,
  AgentOperation,
  AgentProtocol,
  AgentRequestRecord,
  AgentToolCall,
  GenerateRequestRecord,
  ModelMemoryOptions,
  OllamaAgent,
  OllamaAgentOptions,
  TagsBehavior,
} from './test-agent/types.js';
