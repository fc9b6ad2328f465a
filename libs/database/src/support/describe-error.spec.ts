import { describeError } from './describe-error.js';

describe('describeError', () => {
  it('adds the error code when the message lacks it', () => {
    const refused = Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' });
    expect(describeError(refused)).toBe('connect failed (ECONNREFUSED)');
    const named = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(describeError(named)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('lists the causes of an AggregateError (e.g. IPv4 and IPv6 both refused)', () => {
    const both = new AggregateError([
      new Error('connect ECONNREFUSED ::1:5432'),
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
    ]);
    expect(describeError(both)).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('describes an error without a message and a thrown non-error', () => {
    expect(describeError(new TypeError(''))).toBe('TypeError');
    expect(describeError('boom')).toBe('boom');
  });
});
