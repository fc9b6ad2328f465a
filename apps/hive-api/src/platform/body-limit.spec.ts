import { bodyLimitBytes } from './body-limit.js';

describe('bodyLimitBytes', () => {
  it.each([
    ['1mb', 1_048_576],
    ['2kb', 2048],
    ['512b', 512],
    ['0b', 0],
  ])('%s is %d bytes', (limit, bytes) => {
    expect(bodyLimitBytes(limit)).toBe(bytes);
  });

  it('refuses what is not a size', () => {
    expect(() => bodyLimitBytes('1gb')).toThrow('BODY_LIMIT 1gb is not a size');
  });
});
