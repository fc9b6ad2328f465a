import { getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { NULL } from '../../openapi/nullable-schema.js';
import { ERROR_SCHEMA, type GatewayCallDoc, type GatewayModelsDoc } from '../gateway-openapi.js';

/**
 * The OpenAI dialect in the OpenAPI document: the request fields Hive reads (openai-requests.ts; clients send more,
 * which Hive ignores, so request objects stay open) and the answers as openai-answers.ts writes them.
 */

const ref = (name: string) => ({ $ref: getSchemaPath(name) });
const TASK_ID = '6f1c2a4e-8b3d-4f5a-9e7c-1d2b3a4c5e6f';
const CREATED = 1733500000;

/** Fields both completion routes read, by OpenAI's names (Hive passes them to the agent by Ollama's). */
const SAMPLING: Record<string, SchemaObject> = {
  model: {
    type: 'string',
    minLength: 1,
    description: "A model an enabled agent serves (GET /v1/models): the task's model",
    example: 'llama3:8b',
  },
  stream: {
    type: 'boolean',
    nullable: true,
    default: false,
    description: 'Answer as server-sent events while the model produces it',
  },
  stream_options: {
    type: 'object',
    nullable: true,
    additionalProperties: true,
    properties: {
      include_usage: {
        type: 'boolean',
        nullable: true,
        description: 'Before [DONE], one more chunk with the usage (and no choices); every other chunk has usage null',
      },
    },
  },
  temperature: { type: 'number', nullable: true, minimum: 0, maximum: 2 },
  top_p: { type: 'number', nullable: true, minimum: 0, maximum: 1 },
  max_tokens: {
    type: 'integer',
    nullable: true,
    minimum: 1,
    description: 'At most this many tokens are generated (num_predict)',
  },
  stop: {
    description: 'Generation stops at any of these',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }, NULL],
  },
  seed: { type: 'integer', nullable: true },
  presence_penalty: { type: 'number', nullable: true, minimum: -2, maximum: 2 },
  frequency_penalty: { type: 'number', nullable: true, minimum: -2, maximum: 2 },
  n: {
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: 1,
    description: 'Only 1: Hive answers one choice per request (else 400)',
  },
  logprobs: {
    nullable: true,
    description: 'Not supported: only false or absent (else 400); the agents give no log probabilities',
  },
};

/** A response_format of one `type`. */
const typed = (type: string): SchemaObject => ({
  type: 'object',
  required: ['type'],
  additionalProperties: true,
  properties: { type: { type: 'string', enum: [type] } },
});

const REQUESTS: Record<string, SchemaObject> = {
  OpenAiChatCompletionRequest: {
    type: 'object',
    description:
      "OpenAI's chat completion request, the fields Hive reads; others (user, metadata, store, tool_choice, …) are " +
      'accepted and ignored.',
    required: ['model', 'messages'],
    additionalProperties: true,
    properties: {
      ...SAMPLING,
      messages: { type: 'array', minItems: 1, items: ref('OpenAiChatMessage') },
      max_completion_tokens: {
        type: 'integer',
        nullable: true,
        minimum: 1,
        description: 'The newer name of max_tokens; wins over it',
      },
      tools: {
        type: 'array',
        nullable: true,
        items: ref('OpenAiTool'),
        description: 'Functions the model may call; its calls come back as tool_calls',
      },
      response_format: {
        description:
          'text (the default), json_object (the answer is JSON) or json_schema (the answer is JSON matching ' +
          '`json_schema.schema`)',
        oneOf: [
          typed('text'),
          typed('json_object'),
          {
            type: 'object',
            required: ['type', 'json_schema'],
            additionalProperties: true,
            properties: {
              type: { type: 'string', enum: ['json_schema'] },
              json_schema: {
                type: 'object',
                additionalProperties: true,
                properties: {
                  name: { type: 'string' },
                  schema: { type: 'object', additionalProperties: true, description: 'A JSON schema' },
                },
              },
            },
          },
          NULL,
        ],
      },
    },
  },
  OpenAiChatMessage: {
    type: 'object',
    description:
      "A message of the conversation. Hive keeps role, content, name, tool_calls and tool_call_id (a tool's answer " +
      'is linked to the function of the call it answers); other fields are dropped.',
    required: ['role'],
    additionalProperties: true,
    properties: {
      role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
      content: {
        description: 'Text, or parts: text and images (image_url with a data: URL)',
        oneOf: [{ type: 'string' }, { type: 'array', items: ref('OpenAiContentPart') }, NULL],
      },
      name: { type: 'string' },
      tool_calls: { type: 'array', items: ref('OpenAiToolCall') },
      tool_call_id: { type: 'string', description: 'On a tool message: the call it answers' },
    },
  },
  OpenAiContentPart: {
    type: 'object',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', enum: ['text', 'image_url'] },
      text: { type: 'string' },
      image_url: {
        type: 'object',
        required: ['url'],
        additionalProperties: true,
        properties: {
          url: { type: 'string', description: 'A data: URL (data:image/png;base64,…)' },
          detail: { type: 'string' },
        },
      },
    },
  },
  OpenAiTool: {
    type: 'object',
    required: ['type', 'function'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', enum: ['function'] },
      function: {
        type: 'object',
        required: ['name'],
        additionalProperties: true,
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          parameters: { type: 'object', additionalProperties: true, description: 'A JSON schema of the arguments' },
        },
      },
    },
  },
  OpenAiCompletionRequest: {
    type: 'object',
    description: "OpenAI's (legacy) completion request, the fields Hive reads; others are accepted and ignored.",
    required: ['model', 'prompt'],
    additionalProperties: true,
    properties: {
      ...SAMPLING,
      prompt: {
        description: 'The prompt, or an array of exactly one prompt',
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 }],
      },
      suffix: { type: 'string', nullable: true, description: 'Not supported: 400 when set' },
      echo: { type: 'boolean', nullable: true, description: 'Not supported: 400 when true' },
      best_of: { type: 'integer', nullable: true, minimum: 1, maximum: 1, description: 'Only 1 (else 400)' },
    },
  },
  OpenAiEmbeddingRequest: {
    type: 'object',
    description: "OpenAI's embedding request, the fields Hive reads; others are accepted and ignored.",
    required: ['model', 'input'],
    additionalProperties: true,
    properties: {
      model: SAMPLING.model,
      input: {
        description: 'A text, or texts (one vector each, in order)',
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
      encoding_format: {
        type: 'string',
        nullable: true,
        enum: ['float', 'base64', null],
        default: 'float',
        description: 'float: arrays of numbers; base64: little-endian float32 (what the openai client asks for)',
      },
      dimensions: {
        type: 'integer',
        nullable: true,
        description: 'Not supported: 400 when set (the model decides the length of its vectors)',
      },
    },
  },
};

const FINISH_REASON: SchemaObject = { type: 'string', enum: ['stop', 'length', 'tool_calls', 'content_filter'] };

const ANSWERS: Record<string, SchemaObject> = {
  OpenAiUsage: {
    type: 'object',
    description: 'Tokens, as the agent counted them',
    required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
    properties: {
      prompt_tokens: { type: 'integer', minimum: 0 },
      completion_tokens: { type: 'integer', minimum: 0 },
      total_tokens: { type: 'integer', minimum: 0 },
    },
  },
  OpenAiToolCall: {
    type: 'object',
    description: 'A call of a tool the model decided on',
    required: ['id', 'type', 'function'],
    properties: {
      id: { type: 'string' },
      type: { type: 'string', enum: ['function'] },
      function: {
        type: 'object',
        required: ['name', 'arguments'],
        properties: {
          name: { type: 'string' },
          arguments: { type: 'string', description: 'The arguments as JSON text', example: '{"city":"Lyon"}' },
        },
      },
    },
  },
  OpenAiChatCompletion: {
    type: 'object',
    description: 'A chat completion: one choice',
    required: ['id', 'object', 'created', 'model', 'choices', 'usage'],
    properties: {
      id: { type: 'string', description: '`chatcmpl-` and the id of the Hive task', example: `chatcmpl-${TASK_ID}` },
      object: { type: 'string', enum: ['chat.completion'] },
      created: { type: 'integer', description: 'Unix seconds' },
      model: { type: 'string', description: 'The model as the request named it' },
      choices: {
        type: 'array',
        minItems: 1,
        maxItems: 1,
        items: {
          type: 'object',
          required: ['index', 'message', 'logprobs', 'finish_reason'],
          properties: {
            index: { type: 'integer', minimum: 0 },
            message: {
              type: 'object',
              required: ['role', 'content', 'refusal'],
              properties: {
                role: { type: 'string', enum: ['assistant'] },
                content: { type: 'string', nullable: true, description: 'null when the model only called tools' },
                refusal: NULL,
                tool_calls: { type: 'array', items: ref('OpenAiToolCall') },
              },
            },
            logprobs: NULL,
            finish_reason: FINISH_REASON,
          },
        },
      },
      usage: ref('OpenAiUsage'),
    },
  },
  OpenAiCompletion: {
    type: 'object',
    description: 'A text completion: one choice',
    required: ['id', 'object', 'created', 'model', 'choices', 'usage'],
    properties: {
      id: { type: 'string', description: '`cmpl-` and the id of the Hive task', example: `cmpl-${TASK_ID}` },
      object: { type: 'string', enum: ['text_completion'] },
      created: { type: 'integer', description: 'Unix seconds' },
      model: { type: 'string', description: 'The model as the request named it' },
      choices: {
        type: 'array',
        minItems: 1,
        maxItems: 1,
        items: {
          type: 'object',
          required: ['text', 'index', 'logprobs', 'finish_reason'],
          properties: {
            text: { type: 'string' },
            index: { type: 'integer', minimum: 0 },
            logprobs: NULL,
            finish_reason: FINISH_REASON,
          },
        },
      },
      usage: ref('OpenAiUsage'),
    },
  },
  OpenAiEmbeddingList: {
    type: 'object',
    description: 'One embedding per input, in the order given',
    required: ['object', 'data', 'model', 'usage'],
    properties: {
      object: { type: 'string', enum: ['list'] },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['object', 'index', 'embedding'],
          properties: {
            object: { type: 'string', enum: ['embedding'] },
            index: { type: 'integer', minimum: 0 },
            embedding: {
              description: 'The vector; with encoding_format base64, its little-endian float32 bytes in base64',
              oneOf: [
                { type: 'array', items: { type: 'number' } },
                { type: 'string', format: 'byte' },
              ],
            },
          },
        },
      },
      model: { type: 'string', description: 'The model as the request named it' },
      usage: {
        type: 'object',
        required: ['prompt_tokens', 'total_tokens'],
        properties: { prompt_tokens: { type: 'integer', minimum: 0 }, total_tokens: { type: 'integer', minimum: 0 } },
      },
    },
  },
  OpenAiModel: {
    type: 'object',
    description: 'A model an enabled agent serves',
    required: ['id', 'object', 'created', 'owned_by'],
    properties: {
      id: { type: 'string', example: 'llama3:8b' },
      object: { type: 'string', enum: ['model'] },
      created: {
        type: 'integer',
        description: 'Unix seconds of the last probe that found it (0 before any)',
      },
      owned_by: { type: 'string', enum: ['hive'] },
    },
  },
  OpenAiModelList: {
    type: 'object',
    description: 'Every model an enabled agent serves, once, by name',
    required: ['object', 'data'],
    properties: { object: { type: 'string', enum: ['list'] }, data: { type: 'array', items: ref('OpenAiModel') } },
  },
  [ERROR_SCHEMA.openai]: {
    type: 'object',
    description: "OpenAI's error body: what the openai client raises as BadRequestError, NotFoundError, …",
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string', enum: ['invalid_request_error', 'permission_error', 'requests', 'server_error'] },
          param: { type: 'string', nullable: true, description: 'The request field or header at fault' },
          code: {
            type: 'string',
            nullable: true,
            description: 'invalid_api_key, model_not_found, rate_limit_exceeded, queue_timeout, agent_error, …',
          },
        },
      },
    },
  },
};

/** The OpenAI dialect's schemas, for the document's components. */
export function openAiJsonSchemas(): Record<string, SchemaObject> {
  return { ...REQUESTS, ...ANSWERS };
}

/** The examples: llama3:8b saying "Hello there", whole and streamed. */
const sse = (events: unknown[]): string =>
  events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');

const chatChunk = (delta: Record<string, unknown>, finish: string | null) => ({
  id: `chatcmpl-${TASK_ID}`,
  object: 'chat.completion.chunk',
  created: CREATED,
  model: 'llama3:8b',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});

const completionChunk = (text: string, finish: string | null) => ({
  id: `cmpl-${TASK_ID}`,
  object: 'text_completion',
  created: CREATED,
  model: 'llama3:8b',
  choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
});

const USAGE = { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 };

const CHAT_COMPLETION = {
  id: `chatcmpl-${TASK_ID}`,
  object: 'chat.completion',
  created: CREATED,
  model: 'llama3:8b',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello there', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: USAGE,
};

const COMPLETION = {
  ...completionChunk('Hello there', 'stop'),
  usage: USAGE,
};

const EMBEDDINGS = {
  object: 'list',
  data: [{ object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789] }],
  model: 'nomic-embed-text',
  usage: { prompt_tokens: 4, total_tokens: 4 },
};

const STREAM_ENDS =
  'The stream ends with `data: [DONE]`. A failure after the first event ends it with ' +
  '`data: {"error": {"message", "type", "param", "code"}}` instead (no [DONE]); before it, the call answers an ' +
  'error status. A client that disconnects cancels the task.';

export const CHAT_COMPLETION_DOC: GatewayCallDoc = {
  dialect: 'openai',
  request: 'OpenAiChatCompletionRequest',
  answer: 'OpenAiChatCompletion',
  example: CHAT_COMPLETION,
  description:
    'The completion (application/json), or with `stream: true` server-sent events (text/event-stream): each a ' +
    '`data:` line with a `chat.completion.chunk` `{id, object, created, model, choices: [{index: 0, delta, ' +
    'logprobs: null, finish_reason}]}`. The first delta has role `assistant`; content pieces follow in order, tool ' +
    'calls as `delta.tool_calls[{index, id, type, function: {name, arguments}}]`; the last chunk has the ' +
    'finish_reason (stop, length or tool_calls). With `stream_options.include_usage`, every chunk has `usage: null` ' +
    'and one more with `choices: []` and the usage follows. ' +
    STREAM_ENDS,
  stream: {
    contentType: 'text/event-stream',
    example: sse([
      chatChunk({ role: 'assistant', content: 'Hello' }, null),
      chatChunk({ content: ' there' }, null),
      chatChunk({}, 'stop'),
      '[DONE]',
    ]),
  },
};

export const COMPLETION_DOC: GatewayCallDoc = {
  dialect: 'openai',
  request: 'OpenAiCompletionRequest',
  answer: 'OpenAiCompletion',
  example: COMPLETION,
  description:
    'The completion (application/json), or with `stream: true` server-sent events (text/event-stream): each a ' +
    '`data:` line with a `text_completion` `{id, object, created, model, choices: [{text, index: 0, logprobs: ' +
    'null, finish_reason}]}`, text pieces in order, the last with the finish_reason. With ' +
    '`stream_options.include_usage`, one more with `choices: []` and the usage follows. ' +
    STREAM_ENDS,
  stream: {
    contentType: 'text/event-stream',
    example: sse([
      completionChunk('Hello', null),
      completionChunk(' there', null),
      completionChunk('', 'stop'),
      '[DONE]',
    ]),
  },
  errors: [
    {
      status: 400,
      description:
        'Invalid request: the message and `param` name the field at fault (suffix, echo and best_of are refused)',
      message: 'suffix is not supported',
      param: 'suffix',
    },
  ],
};

export const EMBEDDING_DOC: GatewayCallDoc = {
  dialect: 'openai',
  request: 'OpenAiEmbeddingRequest',
  answer: 'OpenAiEmbeddingList',
  example: EMBEDDINGS,
  description: 'The embeddings, one per input in order',
  errors: [
    {
      status: 400,
      description: 'Invalid request: the message and `param` name the field at fault (dimensions is refused)',
      message: 'dimensions is not supported: the model decides the length of its vectors',
      param: 'dimensions',
    },
  ],
};

export const MODELS_DOC: GatewayModelsDoc = {
  dialect: 'openai',
  answer: 'OpenAiModelList',
  description: 'Every model an enabled agent serves',
};

export const MODEL_DOC: GatewayModelsDoc = {
  dialect: 'openai',
  answer: 'OpenAiModel',
  description: 'The model',
  errors: [
    {
      status: 404,
      description: 'No enabled agent serves the model',
      openAiNote: 'code model_not_found',
      message: 'The model `llama3:8b` does not exist or no agent serves it',
      code: 'model_not_found',
      param: 'model',
    },
  ],
};
