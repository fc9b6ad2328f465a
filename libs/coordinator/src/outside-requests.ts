import { AsyncLocalStorage } from 'node:async_hooks';

/** Runs work in the asynchronous context captured when this runner was made. */
export type ContextRunner = <R>(work: () => R) => R;

/**
 * Captures the current context, for a service to call at construction (start-up, outside any request). Work that a
 * request merely sets going, such as a dispatch pass or a statement shared by many submissions, serves no single
 * request: run through this, its log lines carry no request's id.
 */
export function outsideRequests(): ContextRunner {
  return AsyncLocalStorage.snapshot();
}
