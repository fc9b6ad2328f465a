/** Ollama's POST /api/embed and OpenAI's POST /v1/embeddings: one deterministic vector per input. */
import { timings, words } from './canned-answers.js';
import { base64Embedding, embedding } from './embeddings.js';
import { ollamaErrors, openAiErrors } from './error-answers.js';
import { JSON_TYPE, sendJson, sendRaw } from './http.js';
import type { AnswerContext, InferenceRoute } from './inference.js';

/** The texts to embed, or why `input` is not a non-empty string or list of strings. */
function inputsOf(input: unknown): string[] | { problem: string } {
  const inputs: unknown[] | undefined = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (inputs === undefined) return { problem: input === undefined ? 'input is required' : 'invalid input type' };
  if (!inputs.every((text): text is string => typeof text === 'string')) return { problem: 'invalid input type' };
  if (inputs.length === 0 || inputs.includes('')) return { problem: 'input is required' };
  return inputs;
}

const texts = (body: Record<string, unknown>): string[] => {
  const inputs = inputsOf(body.input);
  return Array.isArray(inputs) ? inputs : [];
};

const vectors = (context: AnswerContext): number[][] =>
  texts(context.body).map((text) => embedding(context.served, text, context.embeddingDimensions));

const promptTokens = (inputs: readonly string[]): number => inputs.reduce((sum, text) => sum + words(text), 0);

export const ollamaEmbedRoute: InferenceRoute = {
  operation: 'embed',
  errors: ollamaErrors,
  notAnObject: 'json: cannot unmarshal into api.EmbedRequest',
  invalid(body) {
    if (typeof body.model !== 'string' || body.model === '') return { message: 'model is required' };
    const inputs = inputsOf(body.input);
    return Array.isArray(inputs) ? undefined : { message: inputs.problem };
  },
  streams: () => false,
  malformed: (res, model) => sendRaw(res, JSON_TYPE, `{"model":"${model}","embeddings":[[0.1,`),
  // The answer of Ollama's older /api/embeddings: one `embedding`, no `embeddings`.
  wrongShape: (res, model) => sendJson(res, 200, { model, embedding: [0.1, 0.2] }),
  answer(context) {
    const { total_duration, load_duration } = timings(context.startedNs, context.delayMs, context.loadNs);
    sendJson(context.res, 200, {
      model: context.model,
      embeddings: vectors(context),
      total_duration,
      load_duration,
      prompt_eval_count: promptTokens(texts(context.body)),
    });
    return Promise.resolve();
  },
};

export const openAiEmbeddingsRoute: InferenceRoute = {
  operation: 'embed',
  errors: openAiErrors,
  notAnObject: 'The request body must be a JSON object.',
  invalid(body) {
    if (typeof body.model !== 'string' || body.model === '') return { message: 'you must provide a model parameter' };
    const inputs = inputsOf(body.input);
    if (!Array.isArray(inputs)) return { message: `'input' ${inputs.problem}`, param: 'input' };
    const format = body.encoding_format;
    if (format === undefined || format === 'float' || format === 'base64') return undefined;
    return { message: "'encoding_format' must be 'float' or 'base64'", param: 'encoding_format' };
  },
  streams: () => false,
  malformed: (res) =>
    sendRaw(res, JSON_TYPE, '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,'),
  // Ollama's /api/embed answer: no `data`.
  wrongShape: (res, model) => sendJson(res, 200, { model, embeddings: [[0.1, 0.2]] }),
  answer(context) {
    const base64 = context.body.encoding_format === 'base64';
    const tokens = promptTokens(texts(context.body));
    sendJson(context.res, 200, {
      object: 'list',
      data: vectors(context).map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? base64Embedding(vector) : vector,
      })),
      model: context.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    return Promise.resolve();
  },
};
