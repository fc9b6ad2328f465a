import type { IncomingHttpHeaders } from 'node:http';
import { callHeaders, PRIORITY_HEADER, QUEUE_TIMEOUT_HEADER } from './call-headers.js';
import { GatewayError } from './gateway-error.js';

const DEFAULT_QUEUE_TIMEOUT_MS = 120_000;

/** The 400 a header is refused with: its status, the header it names, and its message. */
function refusalOf(headers: IncomingHttpHeaders): { status: number; param: string | undefined; message: string } {
  try {
    callHeaders(headers, DEFAULT_QUEUE_TIMEOUT_MS);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { status: error.getStatus(), param: error.details.param, message: error.message };
  }
  throw new Error(`expected ${JSON.stringify(headers)} to be refused`);
}

describe('callHeaders', () => {
  it('without Hive headers: priority 3 and the configured queue timeout', () => {
    expect(callHeaders({ 'content-type': 'application/json' }, DEFAULT_QUEUE_TIMEOUT_MS)).toEqual({
      priority: 3,
      queueTimeoutMs: DEFAULT_QUEUE_TIMEOUT_MS,
    });
    expect(callHeaders({}, 5_000)).toEqual({ priority: 3, queueTimeoutMs: 5_000 });
  });

  it.each([
    ['1', 1],
    ['3', 3],
    ['5', 5],
    [' 4 ', 4],
  ])('x-hive-priority %j is priority %d', (value, priority) => {
    expect(callHeaders({ [PRIORITY_HEADER]: value }, DEFAULT_QUEUE_TIMEOUT_MS)).toEqual({
      priority,
      queueTimeoutMs: DEFAULT_QUEUE_TIMEOUT_MS,
    });
  });

  it.each([
    ['0', 0],
    ['2500', 2_500],
    ['3600000', 3_600_000],
  ])('x-hive-queue-timeout-ms %j is %d ms', (value, queueTimeoutMs) => {
    expect(callHeaders({ [QUEUE_TIMEOUT_HEADER]: value }, DEFAULT_QUEUE_TIMEOUT_MS)).toEqual({
      priority: 3,
      queueTimeoutMs,
    });
  });

  it('reads both headers together', () => {
    expect(callHeaders({ [PRIORITY_HEADER]: '1', [QUEUE_TIMEOUT_HEADER]: '750' }, DEFAULT_QUEUE_TIMEOUT_MS)).toEqual({
      priority: 1,
      queueTimeoutMs: 750,
    });
  });

  it.each(['0', '6', '-1', '2.5', '3e0', 'high', '', '0x3'])(
    'refuses x-hive-priority %j with a 400 naming it',
    (value) => {
      expect(refusalOf({ [PRIORITY_HEADER]: value })).toEqual({
        status: 400,
        param: PRIORITY_HEADER,
        message: 'x-hive-priority must be a whole number from 1 to 5',
      });
    },
  );

  it.each(['-1', '3600001', '1.5', '1e3', 'soon', ''])(
    'refuses x-hive-queue-timeout-ms %j with a 400 naming it',
    (value) => {
      expect(refusalOf({ [QUEUE_TIMEOUT_HEADER]: value })).toEqual({
        status: 400,
        param: QUEUE_TIMEOUT_HEADER,
        message: 'x-hive-queue-timeout-ms must be a whole number from 0 to 3600000',
      });
    },
  );

  it('refuses a header sent twice', () => {
    expect(refusalOf({ [PRIORITY_HEADER]: ['2', '3'] })).toMatchObject({
      status: 400,
      param: PRIORITY_HEADER,
    });
  });

  it('refuses a bad queue timeout even beside a good priority', () => {
    expect(refusalOf({ [PRIORITY_HEADER]: '2', [QUEUE_TIMEOUT_HEADER]: '-5' })).toMatchObject({
      status: 400,
      param: QUEUE_TIMEOUT_HEADER,
    });
  });
});
