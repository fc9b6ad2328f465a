/** OpenAI's POST /v1/chat/completions: one chat.completion, or chat.completion.chunk events with stream:true. */
import { randomBytes } from 'node:crypto';
import { answerText, chatPrompt, toolCallTokens, words } from './canned-answers.js';
import type { AnswerFormat } from './canned-answers.js';
import { openAiErrors } from './error-answers.js';
import { JSON_TYPE, isRecord, sendJson, sendRaw } from './http.js';
import type { AnswerContext, InferenceRoute } from './inference.js';
import { streamCompletion } from './openai-stream.js';

/** OpenAI's `response_format`: json_object, or json_schema with its schema. */
function formatOf(responseFormat: unknown): AnswerFormat {
  if (!isRecord(responseFormat)) return { kind: 'text' };
  if (responseFormat.type === 'json_object') return { kind: 'json' };
  const spec = responseFormat.json_schema;
  if (responseFormat.type === 'json_schema' && isRecord(spec) && isRecord(spec.schema)) {
    return { kind: 'schema', schema: spec.schema };
  }
  return { kind: 'text' };
}

function invalidMessages(messages: unknown): { message: string; param: string } | undefined {
  if (!Array.isArray(messages) || messages.length === 0) {
    return { message: "'messages' must be a non-empty array", param: 'messages' };
  }
  const at = messages.findIndex((m) => !isRecord(m) || typeof m.role !== 'string');
  if (at === -1) return undefined;
  return { message: `Invalid 'messages[${at}]': expected an object with a 'role'`, param: `messages[${at}]` };
}

/** What the completion says, in OpenAI's terms, whether it is sent whole or streamed. */
export interface Completion {
  id: string;
  created: number;
  model: string;
  content: string;
  /** With OpenAI's string arguments and call ids. */
  toolCalls: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  finishReason: 'stop' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function completionOf(context: AnswerContext): Completion {
  const { body, reply } = context;
  const prompt = chatPrompt(body.messages as unknown[]);
  const calls = reply.toolCalls ?? [];
  const content = calls.length > 0 ? '' : answerText(reply.response, prompt.lastUser, formatOf(body.response_format));
  const promptTokens = Math.max(words(prompt.all), 1);
  const completionTokens = calls.length > 0 ? toolCallTokens(calls) : words(content);
  return {
    id: `chatcmpl-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    content,
    toolCalls: calls.map((c) => ({
      id: `call_${randomBytes(12).toString('hex')}`,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    })),
    finishReason: calls.length > 0 ? 'tool_calls' : 'stop',
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

export const chatCompletionsRoute: InferenceRoute = {
  operation: 'chat',
  errors: openAiErrors,
  notAnObject: 'The request body must be a JSON object.',
  invalid: (body) =>
    typeof body.model === 'string' && body.model !== ''
      ? invalidMessages(body.messages)
      : { message: 'you must provide a model parameter' },
  streams: (body) => body.stream === true,
  malformed: (res, model, streaming) =>
    streaming
      ? sendRaw(res, 'text/event-stream', `data: {"id":"chatcmpl-1","model":"${model}","choices":[{"delta":{"cont\n\n`)
      : sendRaw(res, JSON_TYPE, `{"id":"chatcmpl-1","object":"chat.completion","model":"${model}","choices":[{"mess`),
  // Ollama's /api/chat answer: no `choices`.
  wrongShape: (res, model) =>
    sendJson(res, 200, {
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' },
      done: true,
    }),
  async answer(context) {
    const completion = completionOf(context);
    if (context.body.stream === true) return streamCompletion(context, completion);
    const { id, created, model, content, toolCalls, finishReason } = completion;
    const message =
      toolCalls.length > 0
        ? { role: 'assistant', content: null, tool_calls: toolCalls }
        : { role: 'assistant', content };
    sendJson(context.res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: completion.usage,
    });
  },
};
