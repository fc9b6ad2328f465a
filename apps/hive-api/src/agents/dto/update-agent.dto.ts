import { IsBoolean, IsInt, IsOptional, IsString, IsUrl, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ENDPOINT_URL } from './agent-fields.js';

export class UpdateAgentDto {
  @IsOptional()
  @IsUrl(ENDPOINT_URL, { message: 'endpoint must be an http:// or https:// URL' })
  @MaxLength(2048)
  endpoint?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_concurrent?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
