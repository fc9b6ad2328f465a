import { errors } from 'undici';
import { AbortReason, AgentCallError } from './agent-call-error.js';
import { bodyOrNone, retryAfterMs, transportFailure } from './agent-failure.js';
import { AnswerTooLargeError } from './http-exchange.js';

/** A system error of a socket, as Node raises it. */
const socketError = (message: string, code?: string): Error => Object.assign(new Error(message), { code });

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
    expect(transportFailure(new errors.ConnectTimeoutError(), live())).toMatchObject({
      kind: 'connection',
      message: 'UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error',
    });
    expect(transportFailure(new errors.SocketError('other side closed'), live()).message).toBe(
      'UND_ERR_SOCKET: other side closed',
    );
    expect(transportFailure(socketError('socket hang up', 'ECONNRESET'), live())).toMatchObject({
      kind: 'connection',
      message: 'ECONNRESET: socket hang up',
    });
    expect(transportFailure(socketError('no code'), live()).message).toBe('ERROR: no code');
  });

  it('passes on a failure an adapter already classified, even after an abort', () => {
    const failure = new AgentCallError('malformed', 'agent answer is not a JSON object');
    expect(transportFailure(failure, live())).toBe(failure);
    expect(transportFailure(failure, AbortSignal.abort())).toBe(failure);
  });

  it('calls a thrown value that is not an error a connection failure with its text', () => {
    expect(transportFailure('boom', live())).toMatchObject({ kind: 'connection', message: 'boom' });
  });
});

describe('retryAfterMs', () => {
  const NOW = Date.parse('2025-06-01T12:00:00Z');

  it('reads Retry-After in seconds, fractions too', () => {
    expect(retryAfterMs({ 'retry-after': '30' }, NOW)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': ' 1.5 ' }, NOW)).toBe(1_500);
    expect(retryAfterMs({ 'retry-after': '0' }, NOW)).toBe(0);
  });

  it('reads Retry-After as an HTTP date, a date past meaning no wait', () => {
    expect(retryAfterMs({ 'retry-after': 'Sun, 01 Jun 2025 12:00:45 GMT' }, NOW)).toBe(45_000);
    expect(retryAfterMs({ 'retry-after': 'Sun, 01 Jun 2025 11:59:00 GMT' }, NOW)).toBe(0);
  });

  it("prefers OpenAI's retry-after-ms, falling back to Retry-After when it is not a wait", () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '30' }, NOW)).toBe(250);
    expect(retryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '30' }, NOW)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after-ms': '-5', 'retry-after': '2' }, NOW)).toBe(2_000);
  });

  it('reads the first of a repeated header', () => {
    expect(retryAfterMs({ 'retry-after': ['7', '60'] }, NOW)).toBe(7_000);
    expect(retryAfterMs({ 'retry-after-ms': ['125', '900'] }, NOW)).toBe(125);
  });

  it('is undefined without the headers, or when they say nothing usable', () => {
    expect(retryAfterMs({}, NOW)).toBeUndefined();
    for (const value of ['', '  ', 'later', '-3']) expect(retryAfterMs({ 'retry-after': value }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': 'soon' }, NOW)).toBeUndefined();
  });
});

describe('bodyOrNone', () => {
  it('quotes a body whole (AgentClient cuts the text once the key is out of it), or says there was none', () => {
    expect(bodyOrNone('Bad Gateway')).toBe('Bad Gateway');
    expect(bodyOrNone('y'.repeat(300))).toBe('y'.repeat(300));
    expect(bodyOrNone('')).toBe('no body');
  });
});
