import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { ApiErrors } from './api-errors.decorator.js';

/** Names of the API-key security schemes in the document. */
export const API_KEY_HEADER_SCHEME = 'api_key';
export const API_KEY_BEARER_SCHEME = 'bearer';

/**
 * For controllers under /api: an API key is needed (in X-API-Key or as a bearer token, either will do), so every
 * route may answer 401, 429 (the per-key rate limit) and 503 (the key lookup and the route read the database).
 */
export function ApiKeyAuth(): ClassDecorator {
  return applyDecorators(
    ApiSecurity(API_KEY_HEADER_SCHEME),
    ApiBearerAuth(API_KEY_BEARER_SCHEME),
    ApiErrors(401, 429, 503),
  );
}
