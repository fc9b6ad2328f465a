/** The error answers of each protocol: Ollama's `{"error": "…"}` and OpenAI's `{"error": {message, type, …}}`. */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http.js';

/** Ollama's exact text when its queue (OLLAMA_MAX_QUEUE) is full. */
export const OLLAMA_BUSY = 'server busy, please try again.  maximum pending requests exceeded';

export interface ErrorAnswers {
  badRequest(res: ServerResponse, message: string, param?: string): void;
  unauthorized(res: ServerResponse, sent: string | undefined): void;
  modelNotFound(res: ServerResponse, model: string): void;
  busy(res: ServerResponse): void;
  rateLimited(res: ServerResponse, retryAfterS: number): void;
  /** Any status with a message: a test-chosen error, or a 500. */
  error(res: ServerResponse, status: number, message: string): void;
  /** The line or event that breaks a stream already under way. */
  streamError(message: string): string;
}

export const ollamaErrors: ErrorAnswers = {
  badRequest: (res, message) => sendJson(res, 400, { error: message }),
  unauthorized: (res) => sendJson(res, 401, { error: 'unauthorized' }),
  modelNotFound: (res, model) => sendJson(res, 404, { error: `model '${model}' not found` }),
  busy: (res) => sendJson(res, 503, { error: OLLAMA_BUSY }),
  rateLimited: (res, retryAfterS) =>
    sendJson(res, 429, { error: 'rate limited' }, { 'retry-after': String(retryAfterS) }),
  error: (res, status, message) => sendJson(res, status, { error: message }),
  streamError: (message) => `${JSON.stringify({ error: message })}\n`,
};

export function openAiErrorBody(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message, type, param, code } };
}

const errorType = (status: number): string => (status < 500 ? 'invalid_request_error' : 'server_error');

export const openAiErrors: ErrorAnswers = {
  badRequest: (res, message, param) =>
    sendJson(res, 400, openAiErrorBody(message, 'invalid_request_error', param ?? null)),
  unauthorized: (res, sent) => {
    const message =
      sent === undefined
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        : 'Incorrect API key provided.';
    sendJson(res, 401, openAiErrorBody(message, 'invalid_request_error', null, 'invalid_api_key'));
  },
  modelNotFound: (res, model) =>
    sendJson(
      res,
      404,
      openAiErrorBody(`The model \`${model}\` does not exist.`, 'invalid_request_error', 'model', 'model_not_found'),
    ),
  busy: (res) => sendJson(res, 503, openAiErrorBody('server busy', 'server_error')),
  rateLimited: (res, retryAfterS) =>
    sendJson(
      res,
      429,
      openAiErrorBody(
        `Rate limit reached. Please try again in ${retryAfterS}s.`,
        'requests',
        null,
        'rate_limit_exceeded',
      ),
      { 'retry-after': String(retryAfterS) },
    ),
  error: (res, status, message) => sendJson(res, status, openAiErrorBody(message, errorType(status))),
  streamError: (message) => `data: ${JSON.stringify(openAiErrorBody(message, 'server_error'))}\n\n`,
};
