/**
 * Loads Nest's ES modules before any test does: CommonJS packages such as @willsoto/nestjs-prometheus require()
 * them, and jest refuses a require() of an ES module that is still being linked (a "cycle").
 */
await import('@nestjs/common');
await import('@nestjs/core');
