import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUrl, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ENDPOINT_URL } from './agent-fields.js';

@ApiSchema({ name: 'UpdateAgentRequest' })
export class UpdateAgentDto {
  @ApiPropertyOptional({ format: 'uri', maxLength: 2048, example: 'http://gpu-2:11434' })
  @IsOptional()
  @IsUrl(ENDPOINT_URL, { message: 'endpoint must be an http:// or https:// URL' })
  @MaxLength(2048)
  endpoint?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'llama3:70b' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
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
}
