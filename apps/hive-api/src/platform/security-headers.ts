import fastifyHelmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DOCS_PATH } from '../openapi/openapi.js';

/**
 * Swagger UI's pages keep helmet's policy less `upgrade-insecure-requests`: over plain HTTP (a cluster-internal
 * address) it would make the browser fetch the UI's scripts over HTTPS and show a blank page. The UI needs nothing
 * else: its scripts and styles are files from this origin, its inline styles are allowed by helmet's style-src and
 * its icons are data: images. The JSON document keeps the whole policy.
 */
const DOCS_UI_HELMET = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };

const isDocsUi = (url: string): boolean => url === DOCS_PATH || url.startsWith(`${DOCS_PATH}/`);

/**
 * helmet's headers on every response (404s and body errors included: its hook runs before routing ends), through
 * @fastify/helmet. Must run before the docs routes are registered, so that they get their own policy.
 */
export async function useSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (isDocsUi(route.url)) route.config = { ...route.config, helmet: DOCS_UI_HELMET };
    });
  await app.register(fastifyHelmet);
}
