import { servesSql } from '../agents/model-match.js';

/**
 * A registered agent can run a task of type `type` ('' for any) that names model `model` ('' for the agent's
 * default): the same rule as the dispatcher's placement (dispatch/placement.ts in the coordinator).
 */
export const servedBy = (agent: string, type: string, model: string): string =>
  `(${type} = '' OR ${agent}.specialty = ${type})
   AND ${servesSql(`coalesce(${agent}.models, ARRAY[${agent}.model])`, `CASE WHEN ${model} = '' THEN ${agent}.model ELSE ${model} END`)}`;
