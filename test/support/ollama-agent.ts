/**
 * A real Ollama-compatible HTTP server (node:http, 127.0.0.1, ephemeral port) standing in for a remote Ollama
 * machine in Hive's e2e tests and benchmark. It speaks Ollama's wire protocol (`/api/generate`, `/api/tags`, their
 * error bodies and NDJSON streaming) and lets a test choose how it misbehaves. Kept in one file so that `node test/support/ollama-agent.ts`
 * (native type stripping) runs it standalone: a relative `.js` import would not resolve there.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** `gate`: the answer waits until it settles, so a test decides exactly when the agent answers. */
export type AgentBehavior =
  | { kind: 'ok'; delayMs?: number; response?: string; gate?: Promise<unknown> }
  | { kind: 'error'; status: number; message: string; delayMs?: number; gate?: Promise<unknown> }
  | { kind: 'busy' }
  | { kind: 'model-not-found' }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'wrong-shape' }
  | { kind: 'down' };

type TagsBehavior = 'ok' | 'error' | 'down' | 'hang';

export interface OllamaAgentOptions {
  models?: string[];
  behavior?: AgentBehavior;
  tagsBehavior?: TagsBehavior;
  port?: number;
}

export interface GenerateRequestRecord {
  model: string;
  prompt: string;
  system?: string;
  options?: Record<string, unknown>;
  stream?: boolean;
  receivedAt: number;
  body: unknown;
}

export interface OllamaAgent {
  readonly url: string;
  readonly requests: GenerateRequestRecord[];
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly tagsCalls: number;
  setBehavior(b: AgentBehavior): void;
  queueBehaviors(...b: AgentBehavior[]): void;
  setTagsBehavior(b: TagsBehavior): void;
  onRequest(listener: (r: GenerateRequestRecord) => void): () => void;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BUSY = 'server busy, please try again.  maximum pending requests exceeded';
const MODIFIED_AT = '2026-01-01T00:00:00Z';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return; // the client went away; nothing to answer
  res.writeHead(status, { 'Content-Type': JSON_TYPE }).end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

/** Resolves true after ms, or false as soon as the response is closed (so no timer outlives a dead request). */
function wait(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/** Resolves true once `gate` settles, or false as soon as the response is closed. */
function waitFor(gate: Promise<unknown>, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    res.once('close', onClose);
    const open = (): void => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    };
    gate.then(open, open);
  });
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** Ollama resolves `llama3` as `llama3:latest`. */
const normalizeModel = (name: string): string => (name.includes(':') ? name : `${name}:latest`);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tagEntry(name: string): Record<string, unknown> {
  const [base = name, tag = 'latest'] = name.split(':');
  return {
    name,
    model: name,
    modified_at: MODIFIED_AT,
    size: 4_661_224_676,
    digest: createHash('sha256').update(name).digest('hex'),
    details: {
      format: 'gguf',
      family: base.replace(/[\d.]+$/, '') || base,
      parameter_size: /^\d+(\.\d+)?b$/i.test(tag) ? tag.toUpperCase() : '8B',
      quantization_level: 'Q4_0',
    },
  };
}

/**
 * Nanosecond stats that add up to the real time spent (so a delayed answer reports a plausible slow speed), never
 * less than the delay asked for: Node's timers run on a cached millisecond clock and may fire a little before
 * the high-resolution clock says the delay has passed.
 */
function stats(startedNs: bigint, delayMs: number, prompt: string, response: string): Record<string, number> {
  const total = Math.max(Number(process.hrtime.bigint() - startedNs), delayMs * 1_000_000, 1_000_000);
  const load = Math.round(total * 0.1);
  const promptEval = Math.round(total * 0.2);
  return {
    total_duration: total,
    load_duration: load,
    prompt_eval_count: Math.max(words(prompt), 1),
    prompt_eval_duration: promptEval,
    eval_count: words(response),
    eval_duration: total - load - promptEval,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOllamaAgent(options: OllamaAgentOptions = {}): Promise<OllamaAgent> {
  const models = options.models ?? ['llama3:8b'];
  const known = new Set(models.map(normalizeModel));
  const initialBehavior: AgentBehavior = options.behavior ?? { kind: 'ok' };
  const initialTags: TagsBehavior = options.tagsBehavior ?? 'ok';

  let behavior = initialBehavior;
  let tagsBehavior = initialTags;
  const queued: AgentBehavior[] = [];
  const requests: GenerateRequestRecord[] = [];
  const listeners = new Set<(r: GenerateRequestRecord) => void>();
  let inFlight = 0;
  let maxInFlight = 0;
  let tagsCalls = 0;

  async function handleGenerate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedNs = process.hrtime.bigint();
    const receivedAt = Date.now();
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      inFlight -= 1;
    };
    res.once('finish', finish); // response fully written
    res.once('close', finish); // or the connection died first (client abort, close(), 'down')

    const raw = await readBody(req);
    let body: unknown = raw;
    let parseError: string | undefined;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      parseError = raw.trim() === '' ? 'missing request body' : (err as Error).message;
    }
    const fields = isRecord(body) ? body : {};
    const record: GenerateRequestRecord = {
      model: typeof fields.model === 'string' ? fields.model : '',
      prompt: typeof fields.prompt === 'string' ? fields.prompt : '',
      receivedAt,
      body,
    };
    if (typeof fields.system === 'string') record.system = fields.system;
    if (isRecord(fields.options)) record.options = fields.options;
    if (typeof fields.stream === 'boolean') record.stream = fields.stream;
    requests.push(record);
    // The behaviour is picked here, in the same order as `requests`, so requests[i] got the i-th queued one.
    const current = queued.shift() ?? behavior;
    for (const listener of [...listeners]) listener(record);

    // Like Ollama, a malformed request is rejected before anything else happens.
    if (parseError !== undefined) return sendJson(res, 400, { error: parseError });
    if (!isRecord(body)) return sendJson(res, 400, { error: 'json: cannot unmarshal into api.GenerateRequest' });
    if (record.model === '') return sendJson(res, 400, { error: 'model is required' });

    const { model, prompt } = record;
    // A test-chosen failure overrides the normal flow; only 'ok' goes on to act like a real Ollama.
    switch (current.kind) {
      case 'down':
        req.socket.resetAndDestroy(); // RST: the client sees ECONNRESET, as with a crashed machine
        return;
      case 'hang':
        return; // `finish` runs when the client aborts or close() destroys the socket
      case 'busy':
        return sendJson(res, 503, { error: BUSY });
      case 'model-not-found':
        return sendJson(res, 404, { error: `model '${model}' not found` });
      case 'error':
        if (!(await wait(current.delayMs ?? 0, res))) return;
        if (current.gate !== undefined && !(await waitFor(current.gate, res))) return;
        return sendJson(res, current.status, { error: current.message });
      case 'malformed':
        if (res.destroyed) return;
        res.writeHead(200, { 'Content-Type': JSON_TYPE }).end(`{"model":"${model}","response":"trunc`);
        return;
      case 'wrong-shape': // a chat-style answer: valid JSON, but no `response`/`done`
        return sendJson(res, 200, { model, created_at: new Date().toISOString(), message: { role: 'assistant' } });
      case 'ok':
        break;
    }

    if (!known.has(normalizeModel(model))) return sendJson(res, 404, { error: `model '${model}' not found` });
    if (!(await wait(current.delayMs ?? 0, res))) return;
    if (current.gate !== undefined && !(await waitFor(current.gate, res))) return;
    const createdAt = new Date().toISOString();
    if (prompt === '') {
      // Ollama answers an empty prompt by just (un)loading the model, always as one JSON object.
      const doneReason = [0, '0', '0s'].includes(fields.keep_alive as number | string) ? 'unload' : 'load';
      return sendJson(res, 200, { model, created_at: createdAt, response: '', done: true, done_reason: doneReason });
    }
    const response = current.response ?? `echo: ${prompt}`;
    const final = {
      done: true,
      done_reason: 'stop',
      context: [1, 2, 3],
      ...stats(startedNs, current.delayMs ?? 0, prompt, response),
    };
    if (record.stream === false) {
      return sendJson(res, 200, { model, created_at: createdAt, response, ...final });
    }
    // Streaming (Ollama's default): NDJSON pieces with done:false, then an empty final chunk with the stats.
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    for (const piece of response.match(/\S+\s*/g) ?? []) {
      res.write(`${JSON.stringify({ model, created_at: createdAt, response: piece, done: false })}\n`);
    }
    res.end(`${JSON.stringify({ model, created_at: createdAt, response: '', ...final })}\n`);
  }

  function handleTags(req: IncomingMessage, res: ServerResponse): void {
    tagsCalls += 1;
    if (tagsBehavior === 'down') req.socket.resetAndDestroy();
    else if (tagsBehavior === 'error') sendJson(res, 500, { error: 'internal server error' });
    else if (tagsBehavior === 'ok') sendJson(res, 200, { models: models.map(tagEntry) });
    // 'hang': never answer; close() or the client ends it
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = `${req.method ?? 'GET'} ${path}`;
    if (route === 'POST /api/generate') {
      handleGenerate(req, res).catch((err: unknown) => {
        // An aborted upload or a throwing onRequest listener: answer like an internal error if still possible.
        if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
    } else if (route === 'GET /api/tags') handleTags(req, res);
    else if (route === 'GET /api/version') sendJson(res, 200, { version: '0.6.0' });
    else if (route === 'GET /' || route === 'HEAD /') sendText(res, 200, 'Ollama is running');
    else sendText(res, 404, '404 page not found'); // Go's default, for unknown paths and methods alike
  });
  // Like Ollama's Go server, keep idle keep-alive connections open (Node's 5 s default races client pools).
  server.keepAliveTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get tagsCalls() {
      return tagsCalls;
    },
    setBehavior(b) {
      behavior = b;
    },
    queueBehaviors(...b) {
      queued.push(...b);
    },
    setTagsBehavior(b) {
      tagsBehavior = b;
    },
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const stop = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (): void => {
          if (requests.length < n) return;
          stop();
          resolve();
        };
        const timer = setTimeout(() => {
          stop();
          const got = requests.length;
          reject(new Error(`ollama-agent ${url}: expected ${n} generate requests within ${timeoutMs} ms, got ${got}`));
        }, timeoutMs);
        listeners.add(check);
      });
    },
    reset() {
      requests.length = 0; // in place: callers may hold the array
      queued.length = 0;
      maxInFlight = inFlight; // requests still running keep counting; inFlight itself stays exact
      tagsCalls = 0;
      behavior = initialBehavior;
      tagsBehavior = initialTags;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive and hanging requests alike
      });
      return closing;
    },
  };
}

/** Standalone: `OLLAMA_AGENT_PORT=11434 OLLAMA_AGENT_DELAY_MS=0 node test/support/ollama-agent.ts`. */
async function main(): Promise<void> {
  const port = Number(process.env.OLLAMA_AGENT_PORT ?? 11434);
  const delayMs = Number(process.env.OLLAMA_AGENT_DELAY_MS ?? 0);
  if (!Number.isInteger(port) || port < 0 || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new Error('OLLAMA_AGENT_PORT must be a port number and OLLAMA_AGENT_DELAY_MS a non-negative number');
  }
  const agent = await startOllamaAgent({ port, behavior: { kind: 'ok', delayMs } });
  process.stdout.write(`${JSON.stringify({ url: agent.url })}\n`);
  const shutdown = (): void => void agent.close();
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`ollama-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
