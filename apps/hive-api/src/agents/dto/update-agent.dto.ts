import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min, ValidateIf } from 'class-validator';
import { AGENT_API_KEY, AgentEndpoint, MODEL_NAME, MODEL_NAME_MESSAGE } from './agent-fields.js';

@ApiSchema({ name: 'UpdateAgentRequest' })
export class UpdateAgentDto {
  @ApiPropertyOptional({
    format: 'uri',
    maxLength: 2048,
    description: 'Another server: what the old one served is forgotten until the probe that follows at once',
    example: 'http://gpu-2:11434',
  })
  @IsOptional()
  @AgentEndpoint()
  endpoint?: string;

  @ApiPropertyOptional({ pattern: MODEL_NAME.source, maxLength: 200, example: 'llama3:70b' })
  @IsOptional()
  @Matches(MODEL_NAME, { message: `model ${MODEL_NAME_MESSAGE}` })
  model?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, example: 4 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_concurrent?: number;

  @ApiPropertyOptional({ description: 'false takes the agent out of dispatching (status offline)', example: false })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    pattern: AGENT_API_KEY.source,
    maxLength: 4096,
    writeOnly: true,
    description: 'A new API key for the server (stored encrypted, never returned); null removes it',
    example: 'sk-local-9876543210',
  })
  // Absent leaves the key as it is; null removes it.
  @ValidateIf((_dto: unknown, value: unknown) => value !== undefined && value !== null)
  @Matches(AGENT_API_KEY, { message: 'api_key must be 1–4096 printable characters without spaces, or null' })
  api_key?: string | null;
}
