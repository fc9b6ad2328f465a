/** JSON as it goes to and comes from agents, whatever their protocol. */
import { AgentCallError } from '../client/agent-call-error.js';

/** A JSON object as an agent sent it. */
export type JsonRecord = Record<string, unknown>;

export const isRecord = (value: unknown): value is JsonRecord =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A token count or duration: a finite number, else null. */
export const count = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** The body as a JSON object; anything else is a malformed answer. */
export function parseObject(body: string, what = 'agent answer'): JsonRecord {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new AgentCallError('malformed', `${what} is invalid JSON: ${body}`);
  }
  if (!isRecord(value)) throw new AgentCallError('malformed', `${what} is not a JSON object`);
  return value;
}

/** Embedding vectors: a list of lists of finite numbers, one per input; anything else is malformed. */
export function vectors(value: unknown, expected: number): number[][] {
  const valid =
    Array.isArray(value) &&
    value.length === expected &&
    value.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!valid) throw new AgentCallError('malformed', `agent answer lacks ${expected} embedding vector(s)`);
  return value as number[][];
}

/** Nanoseconds since `started` (performance.now()), for protocols that do not report durations. */
export const nanosecondsSince = (started: number): number => Math.round((performance.now() - started) * 1e6);

/** A request's fields without those that are not set, so the agent applies its own defaults. */
export const defined = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
