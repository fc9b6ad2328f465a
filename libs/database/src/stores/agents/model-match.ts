/**
 * When an agent serves a model a task names, written once for the stores' SQL and once for the coordinator's
 * placement, which must agree: the same name, or the name without a tag for its `:latest` tag (Ollama lists
 * `llama3:latest` and answers to `llama3`; OpenAI servers list their ids as they are, and match exactly).
 */
export const LATEST_TAG = ':latest';

/** The name among `served` that `requested` means, or undefined when the agent does not serve it. */
export function servedName(served: readonly string[], requested: string): string | undefined {
  if (served.includes(requested)) return requested;
  const tagged = `${requested}${LATEST_TAG}`;
  return !requested.includes(':') && served.includes(tagged) ? tagged : undefined;
}

/** SQL: the models agent row `a` serves: what its last probe found, else (never probed) its default model. */
export const SERVED_MODELS = 'coalesce(a.models, ARRAY[a.model])';

/** SQL: the text[] expression `served` holds the model the text expression `requested` names. */
export const servesSql = (served: string, requested: string): string =>
  `(${requested} = ANY(${served}) OR (position(':' IN ${requested}) = 0 AND ${requested} || '${LATEST_TAG}' = ANY(${served})))`;

/** What decides whether an agent can run a task: its specialty and the models it serves. */
export interface ServingAgent {
  specialty: string;
  model: string;
  models: readonly string[];
}

/**
 * The name by which `agent` serves a task of type `type` ('' for any) naming model `model` ('' for the agent's
 * default), or undefined when it cannot run it. The SQL twin is servedBy (tasks/served-by.sql.ts).
 */
export function routeModel(agent: ServingAgent, route: { type: string; model: string }): string | undefined {
  if (route.type !== '' && route.type !== agent.specialty) return undefined;
  return servedName(agent.models, route.model === '' ? agent.model : route.model);
}
