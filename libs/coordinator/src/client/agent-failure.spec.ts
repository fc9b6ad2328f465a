import { AbortReason, AgentCallError } from './agent-call-error.js';
import { statusFailure, transportFailure } from './agent-failure.js';
import { AnswerTooLargeError } from './http-exchange.js';

/** A socket error as node:http raises it. */
const socketError = (message: string, code?: string): Error => Object.assign(new Error(message), { code });

const BUSY_BODY = '{"error":"server busy, please try again.  maximum pending requests exceeded"}';

describe('statusFailure', () => {
  it('calls a 503 saying "server busy" busy, keeping the status and Ollama\'s text', () => {
    const error = statusFailure(503, BUSY_BODY);
    expect(error).toBeInstanceOf(AgentCallError);
    expect(error).toMatchObject({
      kind: 'busy',
      status: 503,
      message: 'HTTP 503: server busy, please try again.  maximum pending requests exceeded',
    });
    expect(statusFailure(503, 'Server Busy').kind).toBe('busy');
  });

  it('calls any other 5xx a server error, a 503 of a proxy and a "server busy" 500 too', () => {
    expect(statusFailure(503, 'Service Unavailable')).toMatchObject({ kind: 'server_error', status: 503 });
    expect(statusFailure(500, BUSY_BODY)).toMatchObject({ kind: 'server_error', status: 500 });
    for (const status of [500, 502, 504, 599]) expect(statusFailure(status, '').kind).toBe('server_error');
  });

  it('calls a 4xx, or any status below 500 that was not expected, a client error', () => {
    expect(statusFailure(404, '{"error":"model \'llama9\' not found"}')).toMatchObject({
      kind: 'client_error',
      status: 404,
      message: "HTTP 404: model 'llama9' not found",
    });
    for (const status of [400, 401, 413, 429, 301, 204]) expect(statusFailure(status, '').kind).toBe('client_error');
  });

  it('reads a body that is not text as no body', () => {
    expect(statusFailure(500, undefined).message).toBe('HTTP 500: no body');
    expect(statusFailure(503, { error: 'server busy' })).toMatchObject({
      kind: 'server_error',
      message: 'HTTP 503: no body',
    });
  });
});

describe('transportFailure', () => {
  const live = () => new AbortController().signal;
  const refused = socketError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED');

  it.each([
    ['timeout', 'timeout'],
    ['cancelled', 'cancelled'],
    ['shutdown', 'shutdown'],
    ['lost', 'cancelled'],
  ] as const)("takes an abort by Hive for %s as %s, with the reason's message", (reason, kind) => {
    const signal = AbortSignal.abort(new AbortReason(reason, `aborted: ${reason}`));
    expect(transportFailure(refused, signal)).toMatchObject({ kind, message: `aborted: ${reason}`, status: undefined });
  });

  it('takes any other abort as the timeout', () => {
    const error = new Error('canceled');
    for (const signal of [AbortSignal.abort(), AbortSignal.abort('gone')]) {
      expect(transportFailure(error, signal)).toMatchObject({
        kind: 'timeout',
        message: 'agent did not answer in time',
      });
    }
  });

  it('calls an answer above the size limit malformed', () => {
    expect(transportFailure(new AnswerTooLargeError(16_777_216), live())).toMatchObject({
      kind: 'malformed',
      message: 'the answer is larger than 16777216 bytes',
    });
  });

  it('calls every other failure a connection failure, naming its code', () => {
    expect(transportFailure(refused, live())).toMatchObject({
      kind: 'connection',
      message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(transportFailure(socketError('connect timeout after 5000 ms', 'ECONNTIMEOUT'), live()).message).toBe(
      'ECONNTIMEOUT: connect timeout after 5000 ms',
    );
    expect(transportFailure(socketError('socket hang up', 'ECONNRESET'), live())).toMatchObject({
      kind: 'connection',
      message: 'ECONNRESET: socket hang up',
    });
    expect(transportFailure(socketError('no code'), live()).message).toBe('ERROR: no code');
  });

  it('calls a thrown value that is not an error a connection failure with its text', () => {
    expect(transportFailure('boom', live())).toMatchObject({ kind: 'connection', message: 'boom' });
  });
});
