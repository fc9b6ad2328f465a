/**
 * The path every inference request takes, whatever its route and protocol: parse, log, check the key and the
 * request, apply the behaviour, find and load the model, wait as told, then let the route answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentState } from './agent-state.js';
import type { ErrorAnswers } from './error-answers.js';
import { isRecord, readBody, wait, waitFor } from './http.js';
import type { AgentOperation, AgentRequestRecord, AgentToolCall } from './types.js';

/** What a route answers with, once the request passed every check and its model is loaded. */
export interface AnswerContext {
  res: ServerResponse;
  body: Record<string, unknown>;
  /** The model as the request named it: answers repeat it. */
  model: string;
  /** The served model it resolved to. */
  served: string;
  reply: { response?: string; chunkDelayMs?: number; toolCalls?: AgentToolCall[] };
  /** Set by a stream-error behaviour. */
  streamError?: { afterChunks: number; message: string };
  startedNs: bigint;
  delayMs: number;
  /** Nanoseconds spent waiting for the model to load. */
  loadNs: number;
  embeddingDimensions: number;
}

export interface InferenceRoute {
  operation: AgentOperation;
  errors: ErrorAnswers;
  /** The 400 message for a body that is JSON but not an object. */
  notAnObject: string;
  /** Why the request is invalid, checked before any behaviour applies (as real servers validate first). */
  invalid(body: Record<string, unknown>): { message: string; param?: string } | undefined;
  streams(body: Record<string, unknown>): boolean;
  /** Ollama's keep_alive 0 with nothing to generate: the model is unloaded, not loaded. */
  unloads?(body: Record<string, unknown>): boolean;
  /** 200 with truncated JSON (or a truncated event, for a stream). */
  malformed(res: ServerResponse, model: string, streaming: boolean): void;
  /** 200 with valid JSON that is not this route's answer. */
  wrongShape(res: ServerResponse, model: string): void;
  answer(context: AnswerContext): Promise<void>;
}

function parse(raw: string): { body: unknown; error?: string } {
  if (raw.trim() === '') return { body: raw, error: 'missing request body' };
  try {
    return { body: JSON.parse(raw) as unknown };
  } catch (err) {
    return { body: raw, error: (err as Error).message };
  }
}

function recordOf(req: IncomingMessage, route: InferenceRoute, body: unknown, path: string): AgentRequestRecord {
  const fields = isRecord(body) ? body : {};
  const record: AgentRequestRecord = {
    model: typeof fields.model === 'string' ? fields.model : '',
    prompt: route.operation === 'generate' && typeof fields.prompt === 'string' ? fields.prompt : '',
    receivedAt: Date.now(),
    body,
    path,
    operation: route.operation,
  };
  if (typeof fields.system === 'string') record.system = fields.system;
  if (isRecord(fields.options)) record.options = fields.options;
  if (typeof fields.stream === 'boolean') record.stream = fields.stream;
  if (Array.isArray(fields.messages)) record.messages = fields.messages as unknown[];
  if (req.headers.authorization !== undefined) record.authorization = req.headers.authorization;
  return record;
}

export async function handleInference(
  state: AgentState,
  route: InferenceRoute,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedNs = process.hrtime.bigint();
  state.track(res);
  const { body, error } = parse(await readBody(req));
  const record = recordOf(req, route, body, path);
  const behavior = state.take(record);
  state.watchAbort(record, res);
  const { errors } = route;

  if (!state.authorized(req)) return errors.unauthorized(res, req.headers.authorization);
  if (error !== undefined) return errors.badRequest(res, error);
  if (!isRecord(body)) return errors.badRequest(res, route.notAnObject);
  const invalid = route.invalid(body);
  if (invalid !== undefined) return errors.badRequest(res, invalid.message, invalid.param);

  const { model } = record;
  // A test-chosen failure overrides the normal flow; only 'ok' and 'stream-error' reach the model.
  switch (behavior.kind) {
    case 'down':
      state.hangUp(res);
      req.socket.resetAndDestroy(); // RST: the client sees ECONNRESET, as with a crashed machine
      return;
    case 'hang':
      return; // the response closes when the client aborts or close() destroys the socket
    case 'busy':
      return errors.busy(res);
    case 'model-not-found':
      return errors.modelNotFound(res, model);
    case 'rate-limited':
      return errors.rateLimited(res, behavior.retryAfterS ?? 1);
    case 'error':
      if (!(await wait(behavior.delayMs ?? 0, res))) return;
      if (behavior.gate !== undefined && !(await waitFor(behavior.gate, res))) return;
      return errors.error(res, behavior.status, behavior.message);
    case 'malformed':
      return route.malformed(res, model, route.streams(body));
    case 'wrong-shape':
      return route.wrongShape(res, model);
    case 'ok':
    case 'stream-error':
      break;
  }

  const served = state.served(model);
  if (served === undefined) return errors.modelNotFound(res, model);
  const { memory } = state; // reset() may replace it while this request waits
  let loadNs = 0;
  if (route.unloads?.(body) === true) memory.unload(served);
  else loadNs = await memory.use(served);

  const reply = behavior.kind === 'ok' ? behavior : {};
  const delayMs = behavior.kind === 'ok' ? (behavior.delayMs ?? 0) : 0;
  if (!(await wait(delayMs, res))) return;
  if (behavior.kind === 'ok' && behavior.gate !== undefined && !(await waitFor(behavior.gate, res))) return;
  const streamError = behavior.kind === 'stream-error' ? behavior : undefined;
  // Without a stream to break, the failure is a plain error answer, as when a model runner crashes.
  if (streamError !== undefined && !route.streams(body)) return errors.error(res, 500, streamError.message);
  const { embeddingDimensions } = state;
  await route.answer({ res, body, model, served, reply, streamError, startedNs, delayMs, loadNs, embeddingDimensions });
}
