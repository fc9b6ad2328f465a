import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { DOCS_PATH } from '../openapi/openapi.js';

const POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
];

/**
 * helmet 8's default headers, which Hive sent under Express. Set as reply headers, not on the raw response: with
 * nothing set there, Node writes the whole head from Fastify's header object in one pass, where headers set on the
 * raw response (helmet's way, and Nest's useSecurityHeaders()) send every header through setHeader and its checks a
 * second time, about a tenth of the CPU of a `GET /health`.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [...POLICY, 'upgrade-insecure-requests'].join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * Swagger UI's pages keep the policy less `upgrade-insecure-requests`: over plain HTTP (a cluster-internal address)
 * it would make the browser fetch the UI's scripts over HTTPS and show a blank page. The UI needs nothing else: its
 * scripts and styles are files from this origin, its inline styles are allowed by style-src and its icons are data:
 * images. The JSON document keeps the whole policy.
 */
const DOCS_UI_POLICY = POLICY.join(';');

const isDocsUi = (url: string): boolean => url === DOCS_PATH || url.startsWith(`${DOCS_PATH}/`);

const relaxDocsPolicy: onRequestHookHandler = (_request, reply, done) => {
  void reply.header('content-security-policy', DOCS_UI_POLICY);
  done();
};

/** The headers every answer carries: the security headers and the request's id. */
export function stampHeaders(request: FastifyRequest, reply: FastifyReply): void {
  void reply.headers(SECURITY_HEADERS).header('x-request-id', request.id);
}

/**
 * Stamps every answer (404s, body and guard errors, CORS preflights included) in the first request hook, so it must
 * be added before any other; the docs UI routes get their policy in a hook of their own, run after it.
 */
export function useSecurityHeaders(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, reply, done) => {
    stampHeaders(request, reply);
    done();
  });
  instance.addHook('onRoute', (route) => {
    if (!isDocsUi(route.url)) return;
    const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [...hooks, relaxDocsPolicy];
  });
}
