import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { AGENT_ID, AGENT_KINDS, ENDPOINT_URL, SPECIALTY } from './agent-fields.js';

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
    description: "The Ollama server's base URL (http or https); AGENT_ENDPOINT_ALLOWLIST may restrict the hosts",
    format: 'uri',
    maxLength: 2048,
    example: 'http://gpu-1:11434',
  })
  @IsUrl(ENDPOINT_URL, { message: 'endpoint must be an http:// or https:// URL' })
  @MaxLength(2048)
  endpoint!: string;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'llama3:8b' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
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
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_concurrent: number = 2;

  @ApiPropertyOptional({ enum: AGENT_KINDS, enumName: 'AgentKind', default: 'ollama' })
  @IsOptional()
  @IsIn(AGENT_KINDS)
  kind: (typeof AGENT_KINDS)[number] = 'ollama';
}
