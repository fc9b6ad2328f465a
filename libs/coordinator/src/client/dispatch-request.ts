import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Headers as undici parses them: lower-cased names, a repeated header's values in an array. */
type AnswerHeaders = Dispatcher.ResponseData['headers'];

/** An answer whose headers arrived; its body is read from `body` as it comes. */
export interface DispatchedAnswer {
  statusCode: number;
  headers: AnswerHeaders;
  body: Readable;
}

/** What `signal` aborted with, as an Error (an abort without a reason gives a DOMException, which is one). */
const reasonOf = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));

/**
 * undici's handler for one request: the answer settles the promise once its headers arrived, its body is a plain
 * Readable the agent's bytes are pushed into (the connection paused while it is full, and closed when it is
 * destroyed before its end), and the signal aborts the request or destroys the body at any point.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private body: Readable | undefined;
  private settled = false;
  private readonly onAbort = (): void => {
    if (this.signal !== undefined) this.abort(reasonOf(this.signal));
  };

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (answer: DispatchedAnswer) => void,
    private readonly reject: (error: Error) => void,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Aborted while it waited for a connection: its promise has already rejected, and nothing is sent.
    if (this.signal?.aborted === true) controller.abort(reasonOf(this.signal));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: AnswerHeaders): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    const body = new Readable({
      read: () => controller.resume(),
      destroy: (error, done) => {
        this.stopListening();
        // Destroyed before its end (a reader that stopped, a size limit, the abort): the connection cannot be reused.
        if (!body.readableEnded) controller.abort(error ?? new Error('the answer was discarded before its end'));
        done(error);
      },
    });
    this.body = body;
    this.settle(() => this.resolve({ statusCode, headers, body }));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.body?.push(chunk) === false) controller.pause();
  }

  onResponseEnd(): void {
    this.stopListening();
    this.body?.push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.stopListening();
    if (this.body === undefined) this.settle(() => this.reject(error));
    else if (!this.body.destroyed) this.body.destroy(error);
  }

  private abort(reason: Error): void {
    if (this.body !== undefined) this.body.destroy(reason);
    else {
      this.controller?.abort(reason);
      // Without an answer yet (perhaps still waiting for a connection of its pool): the caller hears it now.
      this.settle(() => this.reject(reason));
    }
  }

  private settle(outcome: () => void): void {
    if (this.settled) return;
    this.settled = true;
    outcome();
  }

  private stopListening(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Sends one request through `dispatcher` and resolves once the answer's headers arrived (any status); rejects with
 * the connection's error, or with the signal's reason when one is given and aborts first. Aborting later destroys
 * the body with that reason.
 *
 * In place of undici's `request()`: measured on a loop of calls one at a time, with `request()` a tenth of the bytes
 * the loop allocated survived V8's young-generation collections (kept by dead objects already promoted), which took
 * 4–6 ms at the median and up to 46 ms; with this handler about 1 %, under 1 ms at the median.
 */
export function dispatchRequest(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal?: AbortSignal,
): Promise<DispatchedAnswer> {
  if (signal?.aborted === true) return Promise.reject(reasonOf(signal));
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new AnswerHandler(signal, resolve, reject));
  });
}
