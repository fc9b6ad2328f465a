import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PACKAGE } from '@hive/config';
import { ModelCatalog, type ServedModel } from '@hive/coordinator';
import { RequireRole } from '../../auth/roles.js';
import { GatewayError, modelNotFound } from '../gateway-error.js';
import { GatewayExchange } from '../gateway-exchange.js';
import { ApiGatewayCall, ApiGatewayModels } from '../gateway-openapi.js';
import { chatFormat, embedFormat, generateFormat } from './ollama-answers.js';
import { CHAT_DOC, EMBED_DOC, GENERATE_DOC, PS_DOC, SHOW_DOC, TAGS_DOC } from './ollama-openapi.js';
import { chatCall, embedCall, generateCall, shownModel } from './ollama-requests.js';

/** What Hive knows of a model's make: nothing the agents' listings would not tell better (see /api/show). */
const NO_DETAILS = {
  parent_model: '',
  format: '',
  family: '',
  families: null,
  parameter_size: '',
  quantization_level: '',
};

const tagEntry = (model: ServedModel) => ({
  name: model.name,
  model: model.name,
  modified_at: (model.probedAt ?? new Date(0)).toISOString(),
  size: 0,
  digest: '',
  details: NO_DETAILS,
});

/**
 * Ollama's API on Ollama's own paths (docs/architecture.md, "The gateway"): an `ollama` client with its host set to
 * Hive runs every call as a Hive task. Errors come as Ollama's `{"error": "…"}` (the exception filter).
 */
@ApiTags('ollama')
@Controller('api')
@RequireRole('operator')
export class OllamaController {
  constructor(
    private readonly exchange: GatewayExchange,
    private readonly catalog: ModelCatalog,
  ) {}

  @Post('chat')
  @HttpCode(200)
  @ApiOperation({ operationId: 'ollamaChat', summary: 'Chat (Ollama)' })
  @ApiGatewayCall(CHAT_DOC)
  async chat(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = chatCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'ollama', endpoint: '/api/chat', operation: 'chat', ...call },
      chatFormat,
    );
  }

  @Post('generate')
  @HttpCode(200)
  @ApiOperation({ operationId: 'ollamaGenerate', summary: 'Generate a completion (Ollama)' })
  @ApiGatewayCall(GENERATE_DOC)
  async generate(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = generateCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'ollama', endpoint: '/api/generate', operation: 'generate', ...call },
      generateFormat,
    );
  }

  @Post('embed')
  @HttpCode(200)
  @ApiOperation({ operationId: 'ollamaEmbed', summary: 'Embeddings (Ollama)' })
  @ApiGatewayCall(EMBED_DOC)
  async embed(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = embedCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'ollama', endpoint: '/api/embed', operation: 'embed', ...call },
      embedFormat,
    );
  }

  @Get('tags')
  @ApiOperation({ operationId: 'ollamaTags', summary: 'The served models (Ollama)' })
  @ApiGatewayModels(TAGS_DOC)
  async tags(): Promise<{ models: ReturnType<typeof tagEntry>[] }> {
    return { models: (await this.catalog.list()).map(tagEntry) };
  }

  @Get('ps')
  @ApiOperation({ operationId: 'ollamaPs', summary: 'The models loaded on agents (Ollama)' })
  @ApiGatewayModels(PS_DOC)
  async running(): Promise<{ models: object[] }> {
    const loaded = (await this.catalog.list()).filter((m) => m.loadedUntil !== undefined);
    return {
      models: loaded.map((m) => ({ ...tagEntry(m), expires_at: m.loadedUntil?.toISOString(), size_vram: 0 })),
    };
  }

  /** Forwarded to an Ollama agent serving the model; from Hive's own knowledge when only other agents serve it. */
  @Post('show')
  @HttpCode(200)
  @ApiOperation({ operationId: 'ollamaShow', summary: 'Describe a served model (Ollama)' })
  @ApiGatewayModels(SHOW_DOC)
  async show(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const model = shownModel(body);
    const described = await this.catalog.describe(model);
    if (!described.found) {
      if (described.reason === 'unknown') throw modelNotFound('ollama', model);
      if (described.reason === 'unreachable') {
        throw new GatewayError(502, `No agent serving ${model} answered /api/show: ${described.error}`);
      }
      await reply.send({
        modelfile: '',
        parameters: '',
        template: '',
        details: NO_DETAILS,
        model_info: {},
        capabilities: [],
      });
      return;
    }
    if (described.status === 404) throw modelNotFound('ollama', model);
    if (described.status !== 200) {
      throw new GatewayError(502, `The agent serving ${model} answered /api/show with HTTP ${described.status}`);
    }
    await reply.type('application/json; charset=utf-8').send(described.body);
  }

  @Get('version')
  @ApiOperation({ operationId: 'ollamaVersion', summary: "Hive's version (Ollama; no key needed)" })
  @ApiOkResponse({ description: "Hive's version", schema: { $ref: getSchemaPath('OllamaVersion') } })
  version(): { version: string } {
    return { version: PACKAGE.version };
  }
}
