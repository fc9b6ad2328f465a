import { Matches } from 'class-validator';
import { AGENT_ID } from './agent-fields.js';

export class AgentIdParams {
  @Matches(AGENT_ID, { message: 'id must be a slug: lowercase letters, digits, - and _' })
  id!: string;
}
