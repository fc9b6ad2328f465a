import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { onRequestHookHandler } from 'fastify';
import { DOCS_PATH } from '../openapi/openapi.js';

const isDocsUi = (url: string): boolean => url === DOCS_PATH || url.startsWith(`${DOCS_PATH}/`);

/** A policy less its `upgrade-insecure-requests` directive. */
const withoutUpgrade = (policy: string): string =>
  policy
    .split(';')
    .filter((directive) => directive.trim() !== 'upgrade-insecure-requests')
    .join(';');

/**
 * Swagger UI's pages keep the policy less `upgrade-insecure-requests`: over plain HTTP (a cluster-internal address)
 * it would make the browser fetch the UI's scripts over HTTPS and show a blank page. The UI needs nothing else: its
 * scripts and styles are files from this origin, its inline styles are allowed by style-src and its icons are data:
 * images. The JSON document keeps the whole policy. A hook of those routes only, run after the global one.
 */
const relaxDocsPolicy: onRequestHookHandler = (_request, reply, done) => {
  const policy = reply.raw.getHeader('content-security-policy');
  if (typeof policy === 'string') reply.raw.setHeader('content-security-policy', withoutUpgrade(policy));
  done();
};

/**
 * helmet 8's headers, with its defaults, on every response (404s and body errors included: the hook runs before
 * routing ends), through Nest's `useSecurityHeaders()`, which works them out once at start-up. @fastify/helmet
 * built helmet anew for every request: a quarter of the CPU of a `GET /health`. Must run before the docs routes are
 * registered, so that they get their policy.
 */
export function useSecurityHeaders(app: NestFastifyApplication): void {
  app.useSecurityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (!isDocsUi(route.url)) return;
      const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
      route.onRequest = [...hooks, relaxDocsPolicy];
    });
}
