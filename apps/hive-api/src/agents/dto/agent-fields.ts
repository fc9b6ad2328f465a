import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsUrl, Matches, MaxLength } from 'class-validator';

/** Agent ids are slugs: they appear in URLs, metrics labels and logs. */
export const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Specialties are task types; same shape, so they make bounded metric labels. */
export const SPECIALTY = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ENDPOINT_URL = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  require_host: true,
};

/**
 * An agent's endpoint: the server's base URL (http or https), to which Hive adds /api/... or /v1/... itself, so a
 * trailing slash goes and a /v1 at the end is refused.
 */
export const AgentEndpoint = (): PropertyDecorator =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/\/+$/, '') : value)),
    IsUrl(ENDPOINT_URL, { message: 'endpoint must be an http:// or https:// URL' }),
    Matches(/^(?!.*\/v1$)/, { message: "endpoint must be the server's base URL, without /v1" }),
    MaxLength(2048),
  );
/** Model names as servers give them (`llama3:8b`, `meta-llama/Llama-3.1-8B-Instruct`): no spaces or controls. */
export const MODEL_NAME = /^[^\s\p{Cc}]{1,200}$/u;
export const MODEL_NAME_MESSAGE = 'must be a model name: 1–200 characters, no spaces';
/** An agent's own API key, kept encrypted: printable, no spaces. */
export const AGENT_API_KEY = /^[\x21-\x7e]{1,4096}$/;
