import { z } from 'zod';
import type { ChatMessage, Tool, ToolCall } from './operation-types.js';

/**
 * The input of each operation as clients may send it, Ollama-shaped or OpenAI-shaped, and how it becomes Hive's own
 * shape (operation-types.ts): message content given as parts is joined into text and images, tool-call arguments
 * given as JSON text become objects, OpenAI's `developer` role is a system message. Unknown fields are refused.
 */

const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+;base64,(.+)$/s;
/** Tool names as OpenAI allows them, which every server accepts. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Ollama's durations ("5m", "1h30m", "-1") or a number of seconds. */
/**
 * Ollama's durations: a number of seconds, or numbers each with its unit ("1h30m"). Each number must end in a unit
 * before the next begins, so the pattern cannot backtrack over a long run of digits; and it is short.
 */
const DURATION = /^-?(?:\d+(?:\.\d+)?|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/;
const MAX_DURATION_LENGTH = 32;
/** OpenAI's limit on inputs per embeddings request. */
export const MAX_EMBED_INPUTS = 2048;

const base64 = z.string().min(1).regex(BASE64, 'must be base64-encoded');
const jsonObject = z.record(z.string(), z.unknown());

const format = z.union([z.literal('json'), jsonObject], { error: 'must be "json" or a JSON schema (an object)' });
const KEEP_ALIVE = 'must be a duration such as "5m" or a number of seconds';
// The message twice: a string that misses the pattern is reported by its branch of the union, not by the union.
const keepAlive = z.union(
  // Too long ends the check before the pattern runs.
  [z.number(), z.string().max(MAX_DURATION_LENGTH, { abort: true }).regex(DURATION, KEEP_ALIVE)],
  { error: KEEP_ALIVE },
);

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.union([z.string(), z.strictObject({ url: z.string(), detail: z.string().optional() })]),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart], {
  error: 'must be a part of type text or image_url',
});

const toolCall = z.strictObject({
  id: z.string().min(1).optional(),
  type: z.literal('function').optional(),
  index: z.number().int().optional(),
  function: z.strictObject({
    name: z.string().regex(TOOL_NAME, 'must be 1–64 letters, digits, _ or -'),
    arguments: z.union([jsonObject, z.string()], { error: 'must be an object or a JSON-encoded object' }),
  }),
});

const message = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']),
  content: z
    .union([z.string(), z.null(), z.array(contentPart)], {
      error: 'must be a string or a list of text and image_url parts',
    })
    .optional(),
  images: z.array(base64).optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().min(1).optional(),
  tool_name: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
});

const tool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().regex(TOOL_NAME, 'must be 1–64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: jsonObject.optional(),
    strict: z.boolean().optional(),
  }),
});

const tuning = { format: format.optional(), options: jsonObject.optional(), keep_alive: keepAlive.optional() };

export const generateInputSchema = z.strictObject({
  prompt: z.string().min(1),
  system: z.string().optional(),
  images: z.array(base64).optional(),
  ...tuning,
});

export const chatInputSchema = z
  .strictObject({
    messages: z.array(message).min(1),
    tools: z.array(tool).optional(),
    ...tuning,
  })
  .transform(({ messages, tools, ...rest }, ctx) => {
    const canonical = messages.map((m, i) => toMessage(m, i, ctx));
    return {
      ...rest,
      messages: canonical,
      ...(tools === undefined ? {} : { tools: tools.map(toTool) }),
    };
  });

export const embedInputSchema = z.strictObject({
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(MAX_EMBED_INPUTS)], {
    error: `must be a non-empty string or a list of 1–${MAX_EMBED_INPUTS} non-empty strings`,
  }),
  options: jsonObject.optional(),
  keep_alive: keepAlive.optional(),
});

type MessageInput = z.infer<typeof message>;

/** A tool in Hive's shape: OpenAI's `strict` flag, which other servers do not know, is left out. */
function toTool({ type, function: { name, description, parameters } }: z.infer<typeof tool>): Tool {
  return {
    type,
    function: {
      name,
      ...(description === undefined ? {} : { description }),
      ...(parameters === undefined ? {} : { parameters }),
    },
  };
}

/** One message in Hive's shape; a problem is added to `ctx` at the message's path. */
function toMessage(m: MessageInput, index: number, ctx: z.RefinementCtx): ChatMessage {
  const images = [...(m.images ?? [])];
  let content = '';
  if (typeof m.content === 'string') content = m.content;
  else if (Array.isArray(m.content)) {
    const texts: string[] = [];
    m.content.forEach((part, p) => {
      if (part.type === 'text') texts.push(part.text);
      else {
        const url = typeof part.image_url === 'string' ? part.image_url : part.image_url.url;
        const data = DATA_URL.exec(url)?.[1];
        if (data === undefined || !BASE64.test(data)) {
          ctx.addIssue({
            code: 'custom',
            path: ['messages', index, 'content', p, 'image_url'],
            message: 'must be a data: URL with base64 content (Hive does not fetch images)',
          });
        } else images.push(data);
      }
    });
    content = texts.join('\n');
  }
  const role = m.role === 'developer' ? 'system' : m.role;
  const toolName = m.tool_name ?? (role === 'tool' ? m.name : undefined);
  return {
    role,
    content,
    ...(images.length > 0 ? { images } : {}),
    ...(m.tool_calls !== undefined && m.tool_calls.length > 0
      ? { tool_calls: m.tool_calls.map((call, c) => toToolCall(call, [index, c], ctx)) }
      : {}),
    ...(m.tool_call_id === undefined ? {} : { tool_call_id: m.tool_call_id }),
    ...(toolName === undefined ? {} : { tool_name: toolName }),
  };
}

/** A tool call in Hive's shape: its arguments as an object, an id made when none was given. */
function toToolCall(
  call: z.infer<typeof toolCall>,
  [message, position]: [number, number],
  ctx: z.RefinementCtx,
): ToolCall {
  const args = parseArguments(call.function.arguments);
  if (typeof args === 'string') {
    ctx.addIssue({
      code: 'custom',
      path: ['messages', message, 'tool_calls', position, 'function', 'arguments'],
      message: 'must be an object or a JSON-encoded object',
    });
  }
  return {
    id: call.id ?? `call_${message}_${position}`,
    type: 'function',
    function: { name: call.function.name, arguments: args },
  };
}

/** Tool-call arguments as an object when they are a JSON object (given as one, or as its text), else the text. */
export function parseArguments(args: Record<string, unknown> | string): Record<string, unknown> | string {
  if (typeof args !== 'string') return args;
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : args;
  } catch {
    return args;
  }
}
