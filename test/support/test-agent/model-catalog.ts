/** The served models: how a requested name finds one, and how each protocol lists them. */
import { createHash } from 'node:crypto';
import type { AgentProtocol } from './types.js';

export const MODIFIED_AT = '2026-01-01T00:00:00Z';
/** /v1/models' `created`, in seconds: the same instant as MODIFIED_AT. */
const CREATED_S = Date.parse(MODIFIED_AT) / 1000;
const SIZE = 4_661_224_676;
/** Ollama's default keep_alive: how long /api/ps says a model stays loaded. */
const KEEP_ALIVE_MS = 5 * 60_000;

/** Ollama resolves `llama3` as `llama3:latest`. */
const normalizeModel = (name: string): string => (name.includes(':') ? name : `${name}:latest`);

/**
 * The served model a request names, as the served list spells it, or undefined. Ollama (its /v1 routes too)
 * completes a missing tag; OpenAI servers (vLLM, llama.cpp) want the exact name.
 */
export function findServed(models: readonly string[], requested: string, protocol: AgentProtocol): string | undefined {
  if (protocol === 'openai') return models.find((m) => m === requested);
  const wanted = normalizeModel(requested);
  return models.find((m) => normalizeModel(m) === wanted);
}

export const digestOf = (name: string): string => createHash('sha256').update(name).digest('hex');

/** The `details` every listing repeats: the family from the name (llama3 → llama), the size from its tag (8b → 8B). */
export function modelDetails(name: string): {
  format: string;
  family: string;
  parameter_size: string;
  quantization_level: string;
} {
  const [base = name, tag = 'latest'] = name.split(':');
  return {
    format: 'gguf',
    family: base.replace(/[\d.]+$/, '') || base,
    parameter_size: /^\d+(\.\d+)?b$/i.test(tag) ? tag.toUpperCase() : '8B',
    quantization_level: 'Q4_0',
  };
}

function modelFacts(name: string): Record<string, unknown> {
  return { size: SIZE, digest: digestOf(name), details: modelDetails(name) };
}

/** An entry of Ollama's GET /api/tags. */
export function tagEntry(name: string): Record<string, unknown> {
  return { name, model: name, modified_at: MODIFIED_AT, ...modelFacts(name) };
}

/** An entry of Ollama's GET /api/ps: a model in memory, fully on the GPU, until its keep-alive ends. */
export function psEntry(name: string, now: number): Record<string, unknown> {
  const expiresAt = new Date(now + KEEP_ALIVE_MS).toISOString();
  return { name, model: name, ...modelFacts(name), expires_at: expiresAt, size_vram: SIZE };
}

/** An entry of OpenAI's GET /v1/models. */
export function openAiModelEntry(id: string): Record<string, unknown> {
  return { id, object: 'model', created: CREATED_S, owned_by: 'library' };
}
