import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import { AGENT_KINDS, type AgentKind } from '@hive/coordinator';
import { AGENT_API_KEY, AGENT_ID, AgentEndpoint, MODEL_NAME, MODEL_NAME_MESSAGE, SPECIALTY } from './agent-fields.js';
import { IfPresent } from '../../validation/if-present.js';

@ApiSchema({ name: 'RegisterAgentRequest' })
export class RegisterAgentDto {
  @ApiProperty({
    description: 'A slug: lowercase letters, digits, - and _',
    pattern: AGENT_ID.source,
    maxLength: 63,
    example: 'coder-1',
  })
  @Matches(AGENT_ID, { message: 'id must be a slug: lowercase letters, digits, - and _, at most 63 characters' })
  id!: string;

  @ApiProperty({
    description:
      "The server's base URL (http or https), without /v1 for an OpenAI-compatible server; " +
      'AGENT_ENDPOINT_ALLOWLIST may restrict the hosts',
    format: 'uri',
    maxLength: 2048,
    example: 'http://gpu-1:11434',
  })
  @AgentEndpoint()
  endpoint!: string;

  @ApiProperty({
    description:
      'Its default model: tasks that name no model run on it. Once probed, it must be among the models the agent ' +
      'serves, else its last_error says so',
    pattern: MODEL_NAME.source,
    maxLength: 200,
    example: 'llama3:8b',
  })
  @Matches(MODEL_NAME, { message: `model ${MODEL_NAME_MESSAGE}` })
  model!: string;

  @ApiProperty({
    description: 'The task type it serves: a slug (lowercase letters, digits, ., - and _)',
    pattern: SPECIALTY.source,
    example: 'code',
  })
  @Matches(SPECIALTY, { message: 'specialty must be a slug: lowercase letters, digits, ., - and _' })
  specialty!: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    default: 2,
    description: 'Tasks it may run at once',
  })
  @IfPresent()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_concurrent: number = 2;

  @ApiPropertyOptional({
    enum: AGENT_KINDS,
    enumName: 'AgentKind',
    default: 'ollama',
    description: "The protocol it speaks: ollama (Ollama's own API) or openai (any server with /v1/chat/completions)",
  })
  @IfPresent()
  @IsIn(AGENT_KINDS, { message: `kind must be one of ${AGENT_KINDS.join(', ')}` })
  kind: AgentKind = 'ollama';

  @ApiPropertyOptional({
    description:
      "The server's own API key, sent as Authorization: Bearer. Stored encrypted (HIVE_SECRET_KEY), never returned",
    pattern: AGENT_API_KEY.source,
    maxLength: 4096,
    writeOnly: true,
    example: 'sk-local-0123456789',
  })
  @IfPresent()
  @Matches(AGENT_API_KEY, { message: 'api_key must be 1–4096 printable characters without spaces' })
  api_key?: string;
}
