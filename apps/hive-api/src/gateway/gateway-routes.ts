import type { GatewayDialect } from '@hive/database';

/** The paths Ollama serves that Hive answers too (the rest of /api is Hive's own API). */
const OLLAMA_PATHS = ['/api/chat', '/api/generate', '/api/embed', '/api/tags', '/api/ps', '/api/show', '/api/version'];
const OLLAMA = new Set(OLLAMA_PATHS);

/** The path of a URL, lower-cased and without a trailing slash or query, as the router matches it. */
const pathOf = (url: string): string => {
  const path = url.split('?', 1)[0]?.toLowerCase() ?? '';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
};

/** The client dialect a request speaks, by its path: /v1 is OpenAI's, Ollama's paths are Ollama's. */
export function gatewayDialectOf(url: string): GatewayDialect | undefined {
  const path = pathOf(url);
  if (path === '/v1' || path.startsWith('/v1/')) return 'openai';
  return OLLAMA.has(path) ? 'ollama' : undefined;
}
