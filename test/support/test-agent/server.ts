/** The agent's HTTP server (node:http, 127.0.0.1): its routes for each protocol, and the handle a test holds. */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentState } from './agent-state.js';
import { ollamaEmbedRoute, openAiEmbeddingsRoute } from './embedding-routes.js';
import { ollamaErrors, openAiErrorBody } from './error-answers.js';
import { sendJson, sendText } from './http.js';
import { handleInference } from './inference.js';
import type { InferenceRoute } from './inference.js';
import { handleListing } from './listing-routes.js';
import type { Listing } from './listing-routes.js';
import { chatRoute, generateRoute } from './ollama-inference.js';
import { chatCompletionsRoute } from './openai-chat.js';
import { handleShow } from './show-route.js';
import type { OllamaAgent, OllamaAgentOptions } from './types.js';
import { waitForLog } from './waits.js';

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

function routesOf(state: AgentState): Record<string, Handler> {
  const inference =
    (route: InferenceRoute): Handler =>
    (req, res, path) => {
      handleInference(state, route, path, req, res).catch((err: unknown) => {
        // An aborted upload, a throwing onRequest listener, a load ended by close(): a 500 if still possible.
        if (!res.headersSent) route.errors.error(res, 500, err instanceof Error ? err.message : String(err));
        else res.destroy();
      });
    };
  const listing =
    (kind: Listing): Handler =>
    (req, res) =>
      handleListing(state, kind, req, res);
  const openAi: Record<string, Handler> = {
    'POST /v1/chat/completions': inference(chatCompletionsRoute),
    'POST /v1/embeddings': inference(openAiEmbeddingsRoute),
    'GET /v1/models': listing('models'),
  };
  if (state.protocol === 'openai') {
    return { ...openAi, 'GET /health': (_req, res) => sendJson(res, 200, { status: 'ok' }) };
  }
  const root: Handler = (_req, res) => sendText(res, 200, 'Ollama is running');
  return {
    ...openAi,
    'POST /api/generate': inference(generateRoute),
    'POST /api/chat': inference(chatRoute),
    'POST /api/embed': inference(ollamaEmbedRoute),
    'GET /api/tags': listing('tags'),
    'GET /api/ps': listing('ps'),
    'POST /api/show': (req, res) => {
      handleShow(state, req, res).catch(() => res.destroy()); // an aborted upload: nobody to answer
    },
    'GET /api/version': (req, res) =>
      state.authorized(req)
        ? sendJson(res, 200, { version: '0.6.0' })
        : ollamaErrors.unauthorized(res, req.headers.authorization),
    'GET /': root,
    'HEAD /': root,
  };
}

/** Unknown paths and methods alike: Go's default text for Ollama, an OpenAI error body for the others. */
function notFound(state: AgentState, res: ServerResponse, route: string): void {
  if (state.protocol === 'ollama') return sendText(res, 404, '404 page not found');
  const body = openAiErrorBody(`Unknown request URL: ${route}.`, 'invalid_request_error', null, 'unknown_url');
  sendJson(res, 404, body);
}

export async function startOllamaAgent(options: OllamaAgentOptions = {}): Promise<OllamaAgent> {
  const state = new AgentState(options);
  const routes = routesOf(state);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = `${req.method ?? 'GET'} ${path}`;
    const handler = routes[route];
    if (handler === undefined) notFound(state, res, route);
    else handler(req, res, path);
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

  const requestLog = { records: state.requests, listeners: state.listeners, noun: 'generate requests' };
  const abortLog = { records: state.aborted, listeners: state.abortListeners, noun: 'aborted requests' };
  let closing: Promise<void> | undefined;
  return {
    url,
    protocol: state.protocol,
    requests: state.requests,
    aborted: state.aborted,
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get tagsCalls() {
      return state.tagsCalls;
    },
    get psCalls() {
      return state.psCalls;
    },
    get modelsCalls() {
      return state.modelsCalls;
    },
    get showCalls() {
      return state.showCalls;
    },
    get loads() {
      return state.memory.loads;
    },
    get loadedModels() {
      return state.memory.models;
    },
    setBehavior(b) {
      state.behavior = b;
    },
    queueBehaviors(...b) {
      state.queued.push(...b);
    },
    setTagsBehavior(b) {
      state.tagsBehavior = b;
    },
    setModels(models) {
      state.setModels(models);
    },
    setApiKey(key) {
      state.apiKey = key;
    },
    onRequest(listener) {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
    waitForRequests: (n, timeoutMs = 10_000) =>
      waitForLog(requestLog, url, n, timeoutMs, ' (chat and embed requests count too)'),
    waitForAborts: (n, timeoutMs = 10_000) => waitForLog(abortLog, url, n, timeoutMs),
    reset() {
      state.reset();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        state.close(); // ends model loads under way
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive and hanging requests alike
      });
      return closing;
    },
  };
}
