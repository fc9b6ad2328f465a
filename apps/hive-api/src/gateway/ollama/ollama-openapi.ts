import { getSchemaPath, type ReferenceObject, type SchemaObject } from '@nestjs/swagger';
import { ERROR_SCHEMA, type GatewayCallDoc, type GatewayModelsDoc } from '../gateway-openapi.js';

/**
 * The Ollama dialect in the OpenAPI document: the request fields Hive reads (ollama-requests.ts; clients send more,
 * which Hive ignores, so request objects stay open) and the answers as ollama-answers.ts and the controller write
 * them.
 */

const ref = (name: string) => ({ $ref: getSchemaPath(name) });
const CREATED_AT = '2024-12-06T15:46:40.123Z';

const MODEL: SchemaObject = {
  type: 'string',
  minLength: 1,
  description: "A model an enabled agent serves (GET /api/tags): the task's model",
  example: 'llama3:8b',
};
const OPTIONS: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  description: "Ollama's model options (temperature, top_p, num_predict, stop, seed, num_ctx, …), passed to the agent",
};
const KEEP_ALIVE: SchemaObject = {
  description: 'How long the agent keeps the model loaded after the call: a duration ("5m") or seconds',
  oneOf: [{ type: 'string' }, { type: 'number' }],
};
const FORMAT: SchemaObject = {
  description: '"json" (the answer is JSON), or a JSON schema the answer matches',
  oneOf: [
    { type: 'string', enum: ['json', ''] },
    { type: 'object', additionalProperties: true },
  ],
};
const STREAM: SchemaObject = {
  type: 'boolean',
  nullable: true,
  default: true,
  description: 'Ollama streams unless told not to: false answers one JSON object',
};
const IMAGES: SchemaObject = { type: 'array', items: { type: 'string' }, description: 'Images in base64' };
const DURATION: SchemaObject = { type: 'integer', minimum: 0, description: 'Nanoseconds' };
const COUNT: SchemaObject = { type: 'integer', minimum: 0 };

const REQUESTS: Record<string, SchemaObject> = {
  OllamaChatRequest: {
    type: 'object',
    description: "Ollama's chat request, the fields Hive reads; others (think, template, …) are accepted and ignored.",
    required: ['model', 'messages'],
    additionalProperties: true,
    properties: {
      model: MODEL,
      messages: { type: 'array', minItems: 1, items: ref('OllamaMessage') },
      tools: {
        type: 'array',
        nullable: true,
        items: { type: 'object', additionalProperties: true },
        description: 'Functions the model may call (OpenAI-style function tools); its calls come in the last line',
      },
      format: FORMAT,
      stream: STREAM,
      options: OPTIONS,
      keep_alive: KEEP_ALIVE,
    },
  },
  OllamaMessage: {
    type: 'object',
    description:
      'A message of the conversation. Hive keeps role, content, images, tool_calls, tool_name and tool_call_id; ' +
      'other fields (thinking, …) are dropped.',
    required: ['role'],
    additionalProperties: true,
    properties: {
      role: { type: 'string', enum: ['system', 'user', 'assistant', 'tool'] },
      content: { type: 'string' },
      images: IMAGES,
      tool_calls: { type: 'array', items: ref('OllamaToolCall') },
      tool_name: { type: 'string', description: 'On a tool message: the function whose answer it is' },
      tool_call_id: { type: 'string' },
    },
  },
  OllamaGenerateRequest: {
    type: 'object',
    description: "Ollama's generate request, the fields Hive reads; others are accepted and ignored.",
    required: ['model', 'prompt'],
    additionalProperties: true,
    properties: {
      model: MODEL,
      prompt: { type: 'string', minLength: 1 },
      system: { type: 'string', nullable: true },
      images: { ...IMAGES, nullable: true },
      format: FORMAT,
      stream: STREAM,
      options: OPTIONS,
      keep_alive: KEEP_ALIVE,
      suffix: { type: 'string', nullable: true, description: 'Not supported: 400 when set' },
      raw: { type: 'boolean', nullable: true, description: 'Not supported: 400 when true' },
      context: {
        type: 'array',
        nullable: true,
        items: { type: 'integer' },
        description: 'Not supported: 400 when set (send the conversation to /api/chat)',
      },
    },
  },
  OllamaEmbedRequest: {
    type: 'object',
    description: "Ollama's embed request, the fields Hive reads; others are accepted and ignored.",
    required: ['model', 'input'],
    additionalProperties: true,
    properties: {
      model: MODEL,
      input: {
        description: 'A text, or texts (one vector each, in order)',
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
      options: OPTIONS,
      keep_alive: KEEP_ALIVE,
      truncate: { type: 'boolean', nullable: true, description: 'Accepted; the agent decides' },
      dimensions: {
        type: 'integer',
        nullable: true,
        description: 'Not supported: 400 when set (the model decides the length of its vectors)',
      },
    },
  },
  OllamaShowRequest: {
    type: 'object',
    description: 'The model to describe: `model`, or `name` (its older spelling); one of them is required',
    additionalProperties: true,
    properties: { model: { type: 'string', example: 'llama3:8b' }, name: { type: 'string' } },
  },
};

/** The statistics of a whole answer and of a stream's last line. */
const STATS: Record<string, SchemaObject> = {
  done: { type: 'boolean', enum: [true] },
  done_reason: { type: 'string', description: 'stop, length, … as the agent said', example: 'stop' },
  total_duration: DURATION,
  load_duration: { ...DURATION, description: 'Always 0: Hive does not know it' },
  prompt_eval_count: COUNT,
  eval_count: COUNT,
  eval_duration: DURATION,
};
const STAT_NAMES = Object.keys(STATS);
const HEAD: Record<string, SchemaObject> = {
  model: { type: 'string', description: 'The model as the request named it' },
  created_at: { type: 'string', format: 'date-time' },
};

/** What Hive and Ollama's listings say of a model's make. */
const MODEL_ENTRY: Record<string, SchemaObject | ReferenceObject> = {
  name: { type: 'string', example: 'llama3:8b' },
  model: { type: 'string', example: 'llama3:8b' },
  modified_at: { type: 'string', format: 'date-time', description: 'When a probe last found it' },
  size: { type: 'integer', minimum: 0, description: 'Always 0: Hive does not know it (see /api/show)' },
  digest: { type: 'string', description: "Always '': Hive does not know it" },
  details: ref('OllamaModelDetails'),
};

const ANSWERS: Record<string, SchemaObject> = {
  OllamaToolCall: {
    type: 'object',
    description: 'A call of a tool: the function and its arguments',
    required: ['function'],
    properties: {
      function: {
        type: 'object',
        required: ['name', 'arguments'],
        properties: {
          name: { type: 'string' },
          arguments: {
            description: "The arguments as an object (the model's text when it was not a JSON object)",
            oneOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }],
          },
        },
      },
    },
  },
  OllamaChatResponse: {
    type: 'object',
    description: 'The whole answer (stream: false), or the last line of a stream',
    required: [...Object.keys(HEAD), 'message', ...STAT_NAMES],
    properties: {
      ...HEAD,
      message: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: ['assistant'] },
          content: { type: 'string' },
          tool_calls: { type: 'array', items: ref('OllamaToolCall') },
        },
      },
      ...STATS,
    },
  },
  OllamaGenerateResponse: {
    type: 'object',
    description: 'The whole answer (stream: false), or the last line of a stream',
    required: [...Object.keys(HEAD), 'response', ...STAT_NAMES],
    properties: { ...HEAD, response: { type: 'string' }, ...STATS },
  },
  OllamaEmbedResponse: {
    type: 'object',
    description: 'One vector per input, in the order given',
    required: ['model', 'embeddings', 'total_duration', 'load_duration', 'prompt_eval_count'],
    properties: {
      model: HEAD.model,
      embeddings: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
      total_duration: DURATION,
      load_duration: STATS.load_duration,
      prompt_eval_count: COUNT,
    },
  },
  OllamaModelDetails: {
    type: 'object',
    description: "Empty in Hive's listings: POST /api/show asks an agent",
    required: ['parent_model', 'format', 'family', 'families', 'parameter_size', 'quantization_level'],
    properties: {
      parent_model: { type: 'string' },
      format: { type: 'string' },
      family: { type: 'string' },
      families: { type: 'array', nullable: true, items: { type: 'string' } },
      parameter_size: { type: 'string' },
      quantization_level: { type: 'string' },
    },
  },
  OllamaModel: {
    type: 'object',
    description: 'A model an enabled agent serves',
    required: Object.keys(MODEL_ENTRY),
    properties: MODEL_ENTRY,
  },
  OllamaModelList: {
    type: 'object',
    description: 'Every model an enabled agent serves, once, by name',
    required: ['models'],
    properties: { models: { type: 'array', items: ref('OllamaModel') } },
  },
  OllamaRunningModel: {
    type: 'object',
    description: 'A model an agent holds loaded, as its last probe saw',
    required: [...Object.keys(MODEL_ENTRY), 'expires_at', 'size_vram'],
    properties: {
      ...MODEL_ENTRY,
      expires_at: {
        type: 'string',
        format: 'date-time',
        description: 'Until when it stays loaded (the latest among the agents holding it)',
      },
      size_vram: { type: 'integer', minimum: 0, description: 'Always 0: Hive does not know it' },
    },
  },
  OllamaRunningModelList: {
    type: 'object',
    description: 'The models loaded on agents',
    required: ['models'],
    properties: { models: { type: 'array', items: ref('OllamaRunningModel') } },
  },
  OllamaShowResponse: {
    type: 'object',
    description:
      "Ollama's answer as an Ollama-kind agent serving the model gave it; when only OpenAI-kind agents serve it, " +
      'empty fields from what Hive knows.',
    additionalProperties: true,
    properties: {
      modelfile: { type: 'string' },
      parameters: { type: 'string' },
      template: { type: 'string' },
      details: { type: 'object', additionalProperties: true, description: 'As in OllamaModelDetails' },
      model_info: { type: 'object', additionalProperties: true },
      capabilities: { type: 'array', items: { type: 'string' }, example: ['completion', 'tools'] },
      modified_at: { type: 'string' },
      license: { type: 'string' },
    },
  },
  OllamaVersion: {
    type: 'object',
    required: ['version'],
    properties: { version: { type: 'string', description: "Hive's version", example: '0.1.0' } },
  },
  [ERROR_SCHEMA.ollama]: {
    type: 'object',
    description: "Ollama's error body: what the ollama client raises as a ResponseError",
    required: ['error'],
    properties: { error: { type: 'string', example: 'model "llama3:8b" not found: no agent serves it' } },
  },
};

/** The Ollama dialect's schemas, for the document's components. */
export function ollamaJsonSchemas(): Record<string, SchemaObject> {
  return { ...REQUESTS, ...ANSWERS };
}

/** The examples: llama3:8b saying "Hello there", whole and streamed. */
const STATS_EXAMPLE = {
  done: true,
  done_reason: 'stop',
  total_duration: 412000000,
  load_duration: 0,
  prompt_eval_count: 12,
  eval_count: 2,
  eval_duration: 98000000,
};
const ndjson = (lines: unknown[]): string => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
const head = { model: 'llama3:8b', created_at: CREATED_AT };
const said = (content: string) => ({ role: 'assistant', content });

const STREAM_ENDS =
  'A failure after the first line ends the stream with a line `{"error": "…"}`; before it, the call answers an ' +
  'error status. A client that disconnects cancels the task.';

export const CHAT_DOC: GatewayCallDoc = {
  dialect: 'ollama',
  request: 'OllamaChatRequest',
  answer: 'OllamaChatResponse',
  example: { ...head, message: said('Hello there'), ...STATS_EXAMPLE },
  description:
    'Unless `stream` is false, newline-delimited JSON (application/x-ndjson): pieces `{model, created_at, ' +
    'message: {role: "assistant", content}, done: false}` as the model produces them, then a last line as ' +
    'OllamaChatResponse (`done: true`, the statistics, and the tool calls in its message). With `stream: false`, ' +
    'that answer whole (application/json), its message holding all the content. ' +
    STREAM_ENDS,
  stream: {
    contentType: 'application/x-ndjson',
    example: ndjson([
      { ...head, message: said('Hello'), done: false },
      { ...head, message: said(' there'), done: false },
      { ...head, message: said(''), ...STATS_EXAMPLE },
    ]),
  },
};

export const GENERATE_DOC: GatewayCallDoc = {
  dialect: 'ollama',
  request: 'OllamaGenerateRequest',
  answer: 'OllamaGenerateResponse',
  example: { ...head, response: 'Hello there', ...STATS_EXAMPLE },
  description:
    'Unless `stream` is false, newline-delimited JSON (application/x-ndjson): pieces `{model, created_at, ' +
    'response, done: false}` as the model produces them, then a last line as OllamaGenerateResponse (`done: true` ' +
    'and the statistics). With `stream: false`, that answer whole (application/json). ' +
    STREAM_ENDS,
  stream: {
    contentType: 'application/x-ndjson',
    example: ndjson([
      { ...head, response: 'Hello', done: false },
      { ...head, response: ' there', done: false },
      { ...head, response: '', ...STATS_EXAMPLE },
    ]),
  },
  errors: [
    {
      status: 400,
      description: 'Invalid request: the message names the field at fault (suffix, raw and context are refused)',
      message: 'context is not supported: send the conversation to /api/chat',
    },
  ],
};

export const EMBED_DOC: GatewayCallDoc = {
  dialect: 'ollama',
  request: 'OllamaEmbedRequest',
  answer: 'OllamaEmbedResponse',
  example: {
    model: 'nomic-embed-text',
    embeddings: [[0.0123, -0.0456, 0.0789]],
    total_duration: 14000000,
    load_duration: 0,
    prompt_eval_count: 4,
  },
  description: 'The vectors, one per input in order',
  errors: [
    {
      status: 400,
      description: 'Invalid request: the message names the field at fault (dimensions is refused)',
      message: 'dimensions is not supported: the model decides the length of its vectors',
    },
  ],
};

export const TAGS_DOC: GatewayModelsDoc = {
  dialect: 'ollama',
  answer: 'OllamaModelList',
  description: 'Every model an enabled agent serves',
};

export const PS_DOC: GatewayModelsDoc = {
  dialect: 'ollama',
  answer: 'OllamaRunningModelList',
  description: "The models agents hold loaded, as Hive's probes last saw",
};

export const SHOW_DOC: GatewayModelsDoc = {
  dialect: 'ollama',
  request: 'OllamaShowRequest',
  answer: 'OllamaShowResponse',
  description: 'What an agent serving the model says of it',
  errors: [
    { status: 400, description: 'No model named (`model`, or the older `name`)', message: 'model is required' },
    {
      status: 404,
      description: 'No enabled agent serves the model',
      message: 'model "llama3:8b" not found: no agent serves it',
    },
    { status: 413, description: 'The body is larger than BODY_LIMIT', message: 'request entity too large' },
    {
      status: 502,
      description: 'The agent asked answered with another status than 200 or 404',
      message: 'The agent serving llama3:8b answered /api/show with HTTP 500',
    },
  ],
};
