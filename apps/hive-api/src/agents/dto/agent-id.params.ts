import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { AGENT_ID } from './agent-fields.js';

export class AgentIdParams {
  @ApiProperty({ description: "The agent's id (a slug)", pattern: AGENT_ID.source, example: 'coder-1' })
  @Matches(AGENT_ID, { message: 'id must be a slug: lowercase letters, digits, - and _' })
  id!: string;
}
