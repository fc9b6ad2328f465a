/** What the fake model says: echoed text, JSON for a format, tool calls, token counts and timings. */
import { isRecord } from './http.js';
import { schemaInstance } from './schema-instance.js';
import type { AgentToolCall } from './types.js';

/** The output format a request asked for, whatever its protocol's way of saying so. */
export type AnswerFormat = { kind: 'text' } | { kind: 'json' } | { kind: 'schema'; schema: Record<string, unknown> };

/** Tokens are words here, for prompts and answers alike. */
export const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** The pieces of a streamed answer: one word (and the space after it) each. */
export const pieces = (text: string): string[] => text.match(/\S+\s*/g) ?? [];

/** A message's text: a string, or the text parts of OpenAI's content array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts = content.filter(isRecord).flatMap((part) => (typeof part.text === 'string' ? [part.text] : []));
  return texts.join(' ');
}

/** What a chat echoes (its last user message) and what its prompt counts (every message). */
export function chatPrompt(messages: readonly unknown[]): { lastUser: string; all: string } {
  const records = messages.filter(isRecord);
  const lastUser = records.findLast((m) => m.role === 'user');
  return {
    lastUser: contentText(lastUser?.content),
    all: records.map((m) => contentText(m.content)).join(' '),
  };
}

/** `response` when the behaviour set one; else the echoed text, in the format asked for. */
export function answerText(response: string | undefined, echoed: string, format: AnswerFormat): string {
  if (response !== undefined) return response;
  switch (format.kind) {
    case 'schema':
      return JSON.stringify(schemaInstance(format.schema));
    case 'json':
      return JSON.stringify({ echo: echoed });
    case 'text':
      return `echo: ${echoed}`;
  }
}

/** The tokens of tool calls: the words of their names, argument names and values. */
export function toolCallTokens(calls: readonly AgentToolCall[]): number {
  return words(calls.map((c) => `${c.name} ${JSON.stringify(c.arguments)}`.replace(/[{}[\]",:]/g, ' ')).join(' '));
}

export interface Timings {
  total_duration: number;
  load_duration: number;
  prompt_eval_duration: number;
  eval_duration: number;
}

/**
 * Nanosecond timings that add up to the real time spent (so a delayed answer reports a plausible slow speed), never
 * less than the delay asked for plus the model's load: Node's timers run on a cached millisecond clock and may fire
 * a little before the high-resolution clock says the delay has passed. The load is all in load_duration.
 */
export function timings(startedNs: bigint, delayMs: number, loadNs: number): Timings {
  const elapsed = Number(process.hrtime.bigint() - startedNs);
  const total = Math.max(elapsed, delayMs * 1_000_000 + loadNs, loadNs + 1_000_000);
  const work = total - loadNs;
  const load = loadNs + Math.round(work * 0.1);
  const promptEval = Math.round(work * 0.2);
  return {
    total_duration: total,
    load_duration: load,
    prompt_eval_duration: promptEval,
    eval_duration: total - load - promptEval,
  };
}
