/** Agent ids are slugs: they appear in URLs, metrics labels and logs. */
export const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Specialties are task types; same shape, so they make bounded metric labels. */
export const SPECIALTY = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const ENDPOINT_URL = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  require_host: true,
};
export const AGENT_KINDS = ['ollama'] as const;
