import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ModelCatalog, type ServedModel } from '@hive/coordinator';
import { RequireRole } from '../../auth/roles.js';
import { modelNotFound } from '../gateway-error.js';
import { GatewayExchange } from '../gateway-exchange.js';
import { ApiGatewayCall, ApiGatewayModels } from '../gateway-openapi.js';
import { chatCall, completionCall, embeddingCall } from './openai-requests.js';
import { chatCompletionFormat, completionFormat, embeddingFormat } from './openai-answers.js';
import { CHAT_COMPLETION_DOC, COMPLETION_DOC, EMBEDDING_DOC, MODEL_DOC, MODELS_DOC } from './openai-openapi.js';

const modelEntry = (model: ServedModel) => ({
  id: model.name,
  object: 'model',
  created: model.probedAt === null ? 0 : Math.floor(model.probedAt.getTime() / 1000),
  owned_by: 'hive',
});

/**
 * OpenAI's API (docs/architecture.md, "The gateway"): an `openai` client with its base URL set to Hive's /v1 runs
 * every call as a Hive task. Errors come in OpenAI's shape (the exception filter).
 */
@ApiTags('openai')
@Controller('v1')
@RequireRole('operator')
export class OpenAiController {
  constructor(
    private readonly exchange: GatewayExchange,
    private readonly catalog: ModelCatalog,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({ operationId: 'openaiChatCompletion', summary: 'Chat completion (OpenAI)' })
  @ApiGatewayCall(CHAT_COMPLETION_DOC)
  async chat(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = chatCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'openai', endpoint: '/v1/chat/completions', operation: 'chat', ...call },
      chatCompletionFormat(call.includeUsage),
    );
  }

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ operationId: 'openaiCompletion', summary: 'Text completion (OpenAI, legacy)' })
  @ApiGatewayCall(COMPLETION_DOC)
  async complete(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = completionCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'openai', endpoint: '/v1/completions', operation: 'generate', ...call },
      completionFormat(call.includeUsage),
    );
  }

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({ operationId: 'openaiEmbeddings', summary: 'Embeddings (OpenAI)' })
  @ApiGatewayCall(EMBEDDING_DOC)
  async embed(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const call = embeddingCall(body);
    await this.exchange.answer(
      req,
      reply,
      { dialect: 'openai', endpoint: '/v1/embeddings', operation: 'embed', ...call },
      embeddingFormat(call.base64),
    );
  }

  @Get('models')
  @ApiOperation({ operationId: 'openaiListModels', summary: 'The served models (OpenAI)' })
  @ApiGatewayModels(MODELS_DOC)
  async models(): Promise<{ object: 'list'; data: ReturnType<typeof modelEntry>[] }> {
    return { object: 'list', data: (await this.catalog.list()).map(modelEntry) };
  }

  @Get('models/:model')
  @ApiOperation({ operationId: 'openaiGetModel', summary: 'One served model (OpenAI)' })
  @ApiParam({ name: 'model', description: 'The model name', example: 'llama3:8b' })
  @ApiGatewayModels(MODEL_DOC)
  async model(@Param('model') name: string): Promise<ReturnType<typeof modelEntry>> {
    const model = (await this.catalog.list()).find((m) => m.name === name);
    if (model === undefined) {
      throw modelNotFound('openai', name);
    }
    return modelEntry(model);
  }
}
