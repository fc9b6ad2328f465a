import { z } from 'zod';
import type { OperationInput } from '@hive/coordinator';
import { badRequest } from '../gateway-error.js';
import { defined, hiveInput, knownMessageFields, parsedBody } from '../parsed-input.js';

/** Fields of every Ollama route; others it knows but Hive does not use (think, raw, template, …) are ignored. */
const common = {
  model: z.string().min(1, 'must not be empty'),
  options: z.record(z.string(), z.unknown()).nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
};
const format = z.union([z.literal('json'), z.literal(''), z.record(z.string(), z.unknown())]).nullish();

const chatSchema = z.object({
  ...common,
  messages: z.array(z.record(z.string(), z.unknown())).min(1, 'must have at least 1 message'),
  tools: z.array(z.unknown()).nullish(),
  format,
  stream: z.boolean().nullish(),
});

const generateSchema = z.object({
  ...common,
  prompt: z.string().min(1, 'must not be empty'),
  system: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  format,
  stream: z.boolean().nullish(),
  suffix: z.string().nullish(),
  raw: z.boolean().nullish(),
  context: z.array(z.number()).nullish(),
});

const embedSchema = z.object({
  ...common,
  input: z.union([z.string(), z.array(z.string())]),
  truncate: z.boolean().nullish(),
  dimensions: z.number().int().nullish(),
});

const showSchema = z.object({ model: z.string().min(1, 'must not be empty').optional(), name: z.string().optional() });

/** The fields of a message Hive's chat input knows (thinking and the like are dropped). */
const MESSAGE_FIELDS = ['role', 'content', 'images', 'tool_calls', 'tool_name', 'tool_call_id'];

export interface OllamaCall<Op extends OperationInput['operation']> {
  model: string;
  /** Ollama streams unless told not to. */
  stream: boolean;
  input: Extract<OperationInput, { operation: Op }>['input'];
}

const tuning = (body: { options?: unknown; keep_alive?: unknown; format?: unknown }) =>
  defined({ options: body.options, keep_alive: body.keep_alive, format: body.format === '' ? undefined : body.format });

const message = (raw: Record<string, unknown>) => knownMessageFields(raw, MESSAGE_FIELDS);

/** POST /api/chat as a chat task. */
export function chatCall(body: unknown): OllamaCall<'chat'> {
  const parsed = parsedBody(chatSchema, body);
  const input = hiveInput('chat', {
    messages: parsed.messages.map(message),
    ...defined({ tools: parsed.tools }),
    ...tuning(parsed),
  }) as OllamaCall<'chat'>['input'];
  return { model: parsed.model, stream: parsed.stream !== false, input };
}

/** POST /api/generate as a generate task. */
export function generateCall(body: unknown): OllamaCall<'generate'> {
  const parsed = parsedBody(generateSchema, body);
  if (parsed.suffix !== undefined && parsed.suffix !== null) throw badRequest('suffix is not supported', 'suffix');
  if (parsed.raw === true) throw badRequest('raw is not supported', 'raw');
  if (parsed.context !== undefined && parsed.context !== null) {
    throw badRequest('context is not supported: send the conversation to /api/chat', 'context');
  }
  const input = hiveInput('generate', {
    prompt: parsed.prompt,
    ...defined({ system: parsed.system, images: parsed.images }),
    ...tuning(parsed),
  }) as OllamaCall<'generate'>['input'];
  return { model: parsed.model, stream: parsed.stream !== false, input };
}

/** POST /api/embed as an embed task. */
export function embedCall(body: unknown): OllamaCall<'embed'> {
  const parsed = parsedBody(embedSchema, body);
  if (parsed.dimensions !== undefined && parsed.dimensions !== null) {
    throw badRequest('dimensions is not supported: the model decides the length of its vectors', 'dimensions');
  }
  const input = hiveInput('embed', {
    input: parsed.input,
    ...defined({ options: parsed.options, keep_alive: parsed.keep_alive }),
  }) as OllamaCall<'embed'>['input'];
  return { model: parsed.model, stream: false, input };
}

/** POST /api/show: the model asked about (`name` is its older spelling). */
export function shownModel(body: unknown): string {
  const parsed = parsedBody(showSchema, body);
  const model = parsed.model ?? parsed.name;
  if (model === undefined || model === '') throw badRequest('model is required', 'model');
  return model;
}
