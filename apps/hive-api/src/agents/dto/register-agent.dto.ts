import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { AGENT_ID, AGENT_KINDS, ENDPOINT_URL, SPECIALTY } from './agent-fields.js';

export class RegisterAgentDto {
  @Matches(AGENT_ID, { message: 'id must be a slug: lowercase letters, digits, - and _, at most 63 characters' })
  id!: string;

  @IsUrl(ENDPOINT_URL, { message: 'endpoint must be an http:// or https:// URL' })
  @MaxLength(2048)
  endpoint!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @Matches(SPECIALTY, { message: 'specialty must be a slug: lowercase letters, digits, ., - and _' })
  specialty!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  max_concurrent: number = 2;

  @IsOptional()
  @IsIn(AGENT_KINDS)
  kind: (typeof AGENT_KINDS)[number] = 'ollama';
}
