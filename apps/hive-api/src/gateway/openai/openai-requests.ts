import { z } from 'zod';
import type { OperationInput } from '@hive/coordinator';
import { badRequest } from '../gateway-error.js';
import { defined, hiveInput, knownMessageFields, parsedBody } from '../parsed-input.js';

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish();
const stop = z.union([z.string(), z.array(z.string()).max(4)]);

/** Sampling fields of both OpenAI routes; other fields clients send (user, metadata, store, …) are ignored. */
const sampling = {
  model: z.string().min(1, 'must not be empty'),
  stream: nullable(z.boolean()),
  stream_options: nullable(z.object({ include_usage: nullable(z.boolean()) })),
  temperature: nullable(z.number().min(0).max(2)),
  top_p: nullable(z.number().min(0).max(1)),
  max_tokens: nullable(z.number().int().positive()),
  stop: nullable(stop),
  seed: nullable(z.number().int()),
  presence_penalty: nullable(z.number().min(-2).max(2)),
  frequency_penalty: nullable(z.number().min(-2).max(2)),
  n: nullable(z.number().int()),
  /** Chat: true or false; completions: how many. Hive's agents give no log probabilities: refused when asked for. */
  logprobs: nullable(z.union([z.boolean(), z.number().int()])),
};

const chatSchema = z.object({
  ...sampling,
  messages: z.array(z.record(z.string(), z.unknown())).min(1, 'must have at least 1 message'),
  max_completion_tokens: nullable(z.number().int().positive()),
  tools: nullable(z.array(z.unknown())),
  response_format: nullable(
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional() }),
      }),
    ]),
  ),
});

const completionSchema = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'must hold exactly one prompt')]),
  suffix: nullable(z.string()),
  echo: nullable(z.boolean()),
  best_of: nullable(z.number().int()),
});

const embeddingSchema = z.object({
  model: z.string().min(1, 'must not be empty'),
  input: z.union([z.string(), z.array(z.string())]),
  encoding_format: nullable(z.enum(['float', 'base64'])),
  dimensions: nullable(z.number().int()),
});

/** The fields of a message Hive's chat input knows; the rest (refusal, annotations, audio, …) are dropped. */
const MESSAGE_FIELDS = ['role', 'content', 'tool_calls', 'tool_call_id', 'name'];

/** A streamed or whole call, with what its answer needs to know. */
export interface OpenAiCall<Op extends OperationInput['operation']> {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  input: Extract<OperationInput, { operation: Op }>['input'];
}

/** Sampling options by Ollama's names, as Hive's input takes them. */
function options(body: z.infer<z.ZodObject<typeof sampling>>, maxTokens?: number | null): Record<string, unknown> {
  if ((body.n ?? 1) !== 1) throw badRequest('n must be 1: Hive answers one choice per request', 'n');
  if (body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== false) {
    throw badRequest('logprobs is not supported', 'logprobs');
  }
  return defined({
    temperature: body.temperature,
    top_p: body.top_p,
    num_predict: maxTokens ?? body.max_tokens,
    stop: typeof body.stop === 'string' ? [body.stop] : body.stop,
    seed: body.seed,
    presence_penalty: body.presence_penalty,
    frequency_penalty: body.frequency_penalty,
  });
}

/** A message as Hive's input takes it: a tool answer also names its tool (Ollama's link), found by its call's id. */
function message(raw: Record<string, unknown>, toolNames: Map<string, string>): Record<string, unknown> {
  const kept = knownMessageFields(raw, MESSAGE_FIELDS);
  if (Array.isArray(kept.tool_calls)) {
    for (const call of kept.tool_calls as { id?: unknown; function?: { name?: unknown } }[]) {
      if (typeof call.id === 'string' && typeof call.function?.name === 'string') {
        toolNames.set(call.id, call.function.name);
      }
    }
  }
  if (kept.role === 'tool' && typeof kept.tool_call_id === 'string' && kept.name === undefined) {
    const name = toolNames.get(kept.tool_call_id);
    if (name !== undefined) kept.tool_name = name;
  }
  return kept;
}

/** POST /v1/chat/completions as a chat task. */
export function chatCall(body: unknown): OpenAiCall<'chat'> {
  const parsed = parsedBody(chatSchema, body);
  const toolNames = new Map<string, string>();
  const format = parsed.response_format;
  const input = hiveInput('chat', {
    messages: parsed.messages.map((m) => message(m, toolNames)),
    ...defined({ tools: parsed.tools }),
    ...(format?.type === 'json_object' ? { format: 'json' } : {}),
    ...(format?.type === 'json_schema' ? { format: format.json_schema.schema ?? {} } : {}),
    options: options(parsed, parsed.max_completion_tokens),
  }) as OpenAiCall<'chat'>['input'];
  return {
    model: parsed.model,
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    input,
  };
}

/** POST /v1/completions as a generate task. */
export function completionCall(body: unknown): OpenAiCall<'generate'> {
  const parsed = parsedBody(completionSchema, body);
  if (parsed.suffix !== undefined && parsed.suffix !== null) throw badRequest('suffix is not supported', 'suffix');
  if (parsed.echo === true) throw badRequest('echo is not supported', 'echo');
  if ((parsed.best_of ?? 1) !== 1) throw badRequest('best_of must be 1', 'best_of');
  const prompt = typeof parsed.prompt === 'string' ? parsed.prompt : (parsed.prompt[0] ?? '');
  const input = hiveInput('generate', { prompt, options: options(parsed) }) as OpenAiCall<'generate'>['input'];
  return {
    model: parsed.model,
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    input,
  };
}

/** POST /v1/embeddings as an embed task; base64: the vectors as little-endian float32, as OpenAI sends them. */
export function embeddingCall(body: unknown): OpenAiCall<'embed'> & { base64: boolean } {
  const parsed = parsedBody(embeddingSchema, body);
  if (parsed.dimensions !== undefined && parsed.dimensions !== null) {
    throw badRequest('dimensions is not supported: the model decides the length of its vectors', 'dimensions');
  }
  const input = hiveInput('embed', { input: parsed.input }) as OpenAiCall<'embed'>['input'];
  return {
    model: parsed.model,
    stream: false,
    includeUsage: false,
    input,
    base64: parsed.encoding_format === 'base64',
  };
}
