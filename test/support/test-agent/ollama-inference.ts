/** Ollama's POST /api/generate and POST /api/chat: one JSON answer, or NDJSON pieces (the default). */
import { answerText, chatPrompt, pieces, timings, toolCallTokens, words } from './canned-answers.js';
import type { AnswerFormat } from './canned-answers.js';
import { ollamaErrors } from './error-answers.js';
import { JSON_TYPE, isRecord, sendJson, sendRaw, writeStream } from './http.js';
import type { AnswerContext, InferenceRoute } from './inference.js';

/** Ollama's `format`: "json", or a JSON schema. */
function formatOf(format: unknown): AnswerFormat {
  if (format === 'json') return { kind: 'json' };
  return isRecord(format) ? { kind: 'schema', schema: format } : { kind: 'text' };
}

const keepAliveZero = (body: Record<string, unknown>): boolean =>
  [0, '0', '0s'].includes(body.keep_alive as number | string);
const line = (value: unknown): string => `${JSON.stringify(value)}\n`;
const modelRequired = (body: Record<string, unknown>) =>
  typeof body.model === 'string' && body.model !== '' ? undefined : { message: 'model is required' };

/** Token counts and timings, as every final answer carries them. */
function stats(context: AnswerContext, prompt: string, evalCount: number): Record<string, number> {
  return {
    ...timings(context.startedNs, context.delayMs, context.loadNs),
    prompt_eval_count: Math.max(words(prompt), 1),
    eval_count: evalCount,
  };
}

/** Streams NDJSON `lines`, then `final()`; a stream-error behaviour breaks it with an `{"error"}` line. */
async function streamLines(context: AnswerContext, lines: string[], final: () => unknown): Promise<void> {
  const { res, reply, streamError } = context;
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  const failure = streamError && {
    afterChunks: streamError.afterChunks,
    line: ollamaErrors.streamError(streamError.message),
  };
  await writeStream(res, lines, reply.chunkDelayMs ?? 0, () => line(final()), failure);
}

/** Ollama answers an empty prompt (or no messages) by just loading or unloading the model, as one JSON object. */
const loadAnswer = (body: Record<string, unknown>) => ({
  done: true,
  done_reason: keepAliveZero(body) ? 'unload' : 'load',
});

export const generateRoute: InferenceRoute = {
  operation: 'generate',
  errors: ollamaErrors,
  notAnObject: 'json: cannot unmarshal into api.GenerateRequest',
  invalid: modelRequired,
  streams: (body) => body.stream !== false,
  unloads: (body) => (body.prompt ?? '') === '' && keepAliveZero(body),
  malformed: (res, model) => sendRaw(res, JSON_TYPE, `{"model":"${model}","response":"trunc`),
  // A chat-style answer: valid JSON, but no `response`/`done`.
  wrongShape: (res, model) =>
    sendJson(res, 200, { model, created_at: new Date().toISOString(), message: { role: 'assistant' } }),
  async answer(context) {
    const { res, body, model, reply } = context;
    const prompt = typeof body.prompt === 'string' ? body.prompt : '';
    const base = { model, created_at: new Date().toISOString() };
    if (prompt === '') return sendJson(res, 200, { ...base, response: '', ...loadAnswer(body) });
    const response = answerText(reply.response, prompt, formatOf(body.format));
    const final = () => ({
      done: true,
      done_reason: 'stop',
      context: [1, 2, 3],
      ...stats(context, prompt, words(response)),
    });
    if (body.stream === false) return sendJson(res, 200, { ...base, response, ...final() });
    const lines = pieces(response).map((piece) => line({ ...base, response: piece, done: false }));
    await streamLines(context, lines, () => ({ ...base, response: '', ...final() }));
  },
};

export const chatRoute: InferenceRoute = {
  operation: 'chat',
  errors: ollamaErrors,
  notAnObject: 'json: cannot unmarshal into api.ChatRequest',
  invalid: (body) =>
    modelRequired(body) ??
    (body.messages === undefined || Array.isArray(body.messages)
      ? undefined
      : { message: 'json: cannot unmarshal into Go struct field ChatRequest.messages of type []api.Message' }),
  streams: (body) => body.stream !== false,
  unloads: (body) => (!Array.isArray(body.messages) || body.messages.length === 0) && keepAliveZero(body),
  malformed: (res, model) =>
    sendRaw(res, JSON_TYPE, `{"model":"${model}","message":{"role":"assistant","content":"trunc`),
  // A generate-style answer: valid JSON, but no `message`/`done`.
  wrongShape: (res, model) => sendJson(res, 200, { model, created_at: new Date().toISOString(), response: '' }),
  async answer(context) {
    const { res, body, model, reply } = context;
    const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
    const base = { model, created_at: new Date().toISOString() };
    const empty = { role: 'assistant', content: '' };
    if (messages.length === 0) return sendJson(res, 200, { ...base, message: empty, ...loadAnswer(body) });

    const prompt = chatPrompt(messages);
    const calls = reply.toolCalls ?? [];
    const content = calls.length > 0 ? '' : answerText(reply.response, prompt.lastUser, formatOf(body.format));
    const evalCount = calls.length > 0 ? toolCallTokens(calls) : words(content);
    const final = () => ({ done: true, done_reason: 'stop', ...stats(context, prompt.all, evalCount) });
    // Ollama's tool-call arguments are a JSON object.
    const toolCalls = calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } }));
    const message = toolCalls.length > 0 ? { ...empty, tool_calls: toolCalls } : { ...empty, content };
    if (body.stream === false) return sendJson(res, 200, { ...base, message, ...final() });

    const lines =
      toolCalls.length > 0
        ? [line({ ...base, message, done: false })]
        : pieces(content).map((piece) => line({ ...base, message: { ...empty, content: piece }, done: false }));
    await streamLines(context, lines, () => ({ ...base, message: empty, ...final() }));
  },
};
