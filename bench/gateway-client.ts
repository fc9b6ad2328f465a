/**
 * The gateway phase's client: one chat call over a pool of keep-alive connections (undici's, about half the CPU per
 * call of node:http's: the load it makes shares the machine with Hive), sent through Hive's own dispatchRequest
 * (undici's request() keeps answers alive long enough to make this process's own collections pause it), timed from
 * the moment the request is handed to the pool to the first piece of content and to the end of the answer. The same
 * client, with the same pool settings, calls the agent directly and Hive's gateway, so that the difference between
 * the two is Hive's alone.
 *
 * It reads the three answer shapes the phase asks for: one JSON object (`stream: false`, Ollama's or OpenAI's),
 * Ollama's NDJSON stream (one JSON object a line) and OpenAI's server-sent events (`data: {chunk}` lines, then
 * `data: [DONE]`). A streamed answer is parsed as it arrives, line by line, so the first piece of content is timed
 * when its line is complete, not when the whole answer is.
 */
import { Pool } from 'undici';
import { dispatchRequest } from '../libs/coordinator/src/client/dispatch-request.js';

/** Ollama's shapes (/api/chat) or OpenAI's (/v1/chat/completions). */
export type Dialect = 'ollama' | 'openai';

export interface ChatCall {
  status: number;
  /** performance.now() deltas from the request being handed to the pool, ms: the first content, the end. */
  firstContentMs: number;
  totalMs: number;
  /** The answer's text: the message's content, or the streamed pieces joined. */
  content: string;
  /** The stream's end marker arrived (a `done: true` line, or `data: [DONE]`); true for a whole JSON answer. */
  ended: boolean;
  /** An error line or body (`{"error": …}`), as text; undefined when none came. */
  error: string | undefined;
  /** The whole body when it was not a stream (for error messages). */
  body: string;
  /** x-hive-task-id, when the answer came from Hive. */
  taskId: string | undefined;
  /** x-hive-queue-ms (how long the task waited for an agent), NaN when absent. */
  queueMs: number;
}

/** Of silence on a call's socket. */
const TIMEOUT_MS = 30_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The text piece of one parsed answer or streamed line, in the dialect's shape. */
function contentOf(dialect: Dialect, value: unknown, streamed: boolean): string {
  if (!isRecord(value)) return '';
  if (dialect === 'ollama') {
    const message = value.message;
    return isRecord(message) && typeof message.content === 'string' ? message.content : '';
  }
  const choice = Array.isArray(value.choices) ? (value.choices[0] as unknown) : undefined;
  if (!isRecord(choice)) return '';
  const part = streamed ? choice.delta : choice.message;
  return isRecord(part) && typeof part.content === 'string' ? part.content : '';
}

const errorOf = (value: unknown): string | undefined =>
  isRecord(value) && value.error !== undefined ? JSON.stringify(value.error) : undefined;

export class ChatClient {
  private readonly pool: Pool;
  private readonly host: string;
  private readonly headers: Record<string, string>;

  /** `headers` go on every request (Hive's key, as `Authorization: Bearer`). */
  constructor(url: string, connections: number, headers: Record<string, string> = {}) {
    const base = new URL(url);
    this.host = base.host;
    this.headers = headers;
    // A call Hive never answers fails the run instead of hanging it.
    this.pool = new Pool(base.origin, { connections, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  /** POST `path` with `payload`; `stream` says whether the answer comes as NDJSON / SSE lines or as one JSON body. */
  async call(path: string, payload: unknown, dialect: Dialect, stream: boolean): Promise<ChatCall> {
    const body = JSON.stringify(payload);
    const started = performance.now();
    const res = await dispatchRequest(this.pool, {
      path,
      method: 'POST',
      headers: {
        accept: stream ? (dialect === 'openai' ? 'text/event-stream' : 'application/x-ndjson') : 'application/json',
        'content-type': 'application/json',
        ...this.headers,
      },
      body,
    }).catch((error: unknown) => {
      throw new Error(`${this.host}${path}: ${String(error)}`, { cause: error });
    });
    const status = res.statusCode;
    const taskId = res.headers['x-hive-task-id'];
    const queueMs = res.headers['x-hive-queue-ms'];
    const call: ChatCall = {
      status,
      firstContentMs: NaN,
      totalMs: NaN,
      content: '',
      ended: false,
      error: undefined,
      body: '',
      taskId: typeof taskId === 'string' ? taskId : undefined,
      queueMs: typeof queueMs === 'string' ? Number(queueMs) : NaN,
    };
    // A stream is read only when it is one: an error answer (4xx/5xx) is a single JSON body.
    const lines = stream && status === 200;
    let pending = '';
    const line = (text: string): void => {
      let data = text.trim();
      if (dialect === 'openai') {
        if (!data.startsWith('data:')) return; // blank lines between events, comments
        data = data.slice('data:'.length).trim();
        if (data === '[DONE]') {
          call.ended = true;
          return;
        }
      }
      if (data === '') return;
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        call.error ??= `unreadable line: ${data.slice(0, 300)}`;
        return;
      }
      call.error ??= errorOf(value);
      const piece = contentOf(dialect, value, true);
      if (piece !== '' && Number.isNaN(call.firstContentMs)) call.firstContentMs = performance.now() - started;
      call.content += piece;
      if (dialect === 'ollama' && isRecord(value) && value.done === true) call.ended = true;
    };
    res.body.setEncoding('utf8');
    await new Promise<void>((done, fail) => {
      res.body.on('data', (chunk: string) => {
        if (!lines) {
          call.body += chunk;
          return;
        }
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          line(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      });
      res.body.on('error', fail);
      res.body.on('end', done);
    });
    call.totalMs = performance.now() - started;
    try {
      if (lines) {
        if (pending.trim() !== '') line(pending);
      } else {
        const value = JSON.parse(call.body) as unknown;
        call.error = errorOf(value);
        call.content = contentOf(dialect, value, false);
        call.ended = status === 200;
        call.firstContentMs = call.totalMs;
      }
    } catch (error) {
      call.error ??= `unreadable answer (${String(error)}): ${call.body.slice(0, 300)}`;
    }
    return call;
  }
}

/**
 * What is wrong with the answer to a call that sent `prompt`, if anything: not a 200, an error, no end marker
 * (`done: true` / `[DONE]`), not the echo of its own prompt (the test agents answer `echo: <prompt>`), or, from Hive,
 * no x-hive-task-id.
 */
export function answerProblem(call: ChatCall, prompt: string, fromHive: boolean): string | undefined {
  if (call.status !== 200) return `status ${call.status}`;
  if (call.error !== undefined) return `error ${call.error}`;
  if (!call.ended) return 'no end marker (done: true / [DONE])';
  if (!call.content.trim().endsWith(prompt)) return `content ${JSON.stringify(call.content)} without "${prompt}"`;
  if (fromHive && call.taskId === undefined) return 'no x-hive-task-id';
  return undefined;
}

/**
 * `concurrency` workers each making `call` again until `seconds` have passed; the time counts until the last answer.
 * Each answer's latency, and its x-hive-queue-ms when it has one.
 */
export async function keepInFlight(
  concurrency: number,
  seconds: number,
  call: () => Promise<ChatCall>,
): Promise<{ elapsedMs: number; latencies: number[]; queueMs: number[] }> {
  const latencies: number[] = [];
  const queueMs: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const answer = await call();
      latencies.push(answer.totalMs);
      if (Number.isFinite(answer.queueMs)) queueMs.push(answer.queueMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { elapsedMs: performance.now() - started, latencies, queueMs };
}
