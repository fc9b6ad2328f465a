import { SseReader } from './sse.js';

/** The data of each event the lines make up, then what a flush at the end of the stream gives. */
function read(lines: string[]): { events: string[]; last: string | undefined } {
  const reader = new SseReader();
  const events = lines.flatMap((line) => reader.line(line) ?? []);
  return { events, last: reader.flush() };
}

describe('SseReader', () => {
  it("gives an event's data when a blank line ends it", () => {
    expect(read(['data: {"a":1}', '', 'data: [DONE]', ''])).toEqual({ events: ['{"a":1}', '[DONE]'], last: undefined });
  });

  it('joins the data lines of one event with newlines, removing one space after the colon', () => {
    expect(read(['data: first', 'data:second', 'data:  indented', 'data', '']).events).toEqual([
      'first\nsecond\n indented\n',
    ]);
  });

  it('ignores comments, other fields, and blank lines that end no event', () => {
    const lines = [': ping', '', 'event: message', 'id: 7', 'retry: 1000', 'data: x', '', '', ': keep-alive'];
    expect(read(lines)).toEqual({ events: ['x'], last: undefined });
  });

  it('keeps colons in the data', () => {
    expect(read(['data: {"url":"http://x"}', '']).events).toEqual(['{"url":"http://x"}']);
  });

  it('gives on flush the data of an event the stream ended without a blank line after, once', () => {
    const reader = new SseReader();
    expect(reader.line('data: {"done":true}')).toBeUndefined();
    expect(reader.flush()).toBe('{"done":true}');
    expect(reader.flush()).toBeUndefined();
  });
});
