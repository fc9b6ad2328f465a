/**
 * Hive's own shapes of what an agent is asked and what it answers, whatever the protocol (docs/architecture.md,
 * "Agents and protocols"). Tool-call arguments are objects here, as Ollama sends them; the OpenAI adapter turns
 * them into JSON strings and back.
 */

/** "json", or a JSON schema the answer must follow. */
export type OutputFormat = 'json' | Record<string, unknown>;

/** Sampling and length options, by Ollama's names (`temperature`, `num_predict`, `stop`, `seed`, …). */
export type ModelOptions = Record<string, unknown>;

/** How long the agent keeps the model loaded afterwards: Ollama's duration ("5m") or seconds. */
export type KeepAlive = string | number;

export interface ToolCall {
  /** OpenAI's id of the call; Hive makes one when the agent gave none. */
  id: string;
  type: 'function';
  function: {
    name: string;
    /** The arguments as an object; the model's raw text when it was not a JSON object. */
    arguments: Record<string, unknown> | string;
  };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Images, base64-encoded. */
  images?: string[];
  tool_calls?: ToolCall[];
  /** On a tool answer: the call it answers (OpenAI's link). */
  tool_call_id?: string;
  /** On a tool answer: the tool's name (Ollama's link). */
  tool_name?: string;
}

export interface Tool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

interface Tuning {
  format?: OutputFormat;
  options?: ModelOptions;
  keep_alive?: KeepAlive;
}

export interface GenerateInput extends Tuning {
  prompt: string;
  system?: string;
  images?: string[];
}

export interface ChatInput extends Tuning {
  messages: ChatMessage[];
  tools?: Tool[];
}

export interface EmbedInput {
  input: string | string[];
  options?: ModelOptions;
  keep_alive?: KeepAlive;
}

/** One operation with its input, as an agent call gets it. */
export type OperationInput =
  | { operation: 'generate'; input: GenerateInput }
  | { operation: 'chat'; input: ChatInput }
  | { operation: 'embed'; input: EmbedInput };

/** Why generation stopped: `stop`, `length`, `tool_calls`, `content_filter`, or what the agent said. */
export type DoneReason = string;

/** A task's result, one shape for every protocol and operation. */
export interface TaskResult {
  /** chat: the assistant's message. */
  message?: { role: 'assistant'; content: string; tool_calls?: ToolCall[] };
  /** generate: the text. */
  response?: string;
  /** embed: one vector per input. */
  embeddings?: number[][];
  model: string;
  done_reason: DoneReason | null;
  prompt_eval_count: number | null;
  eval_count: number | null;
  /** Nanoseconds: as the agent reports it (Ollama), else as Hive measured the call. */
  total_duration?: number;
  /** Nanoseconds spent generating, when the agent reports it. */
  eval_duration?: number;
}

/** A piece of an answer as the agent streams it. */
export interface AnswerChunk {
  content?: string;
  tool_calls?: ToolCall[];
}

export type ChunkListener = (chunk: AnswerChunk) => void;
