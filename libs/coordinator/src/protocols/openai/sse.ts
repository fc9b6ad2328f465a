/**
 * Server-sent events read line by line (the HTML spec's parsing, reduced to what LLM servers send): `data:` lines
 * make up an event's data, a blank line ends the event, comments (`: ping`) and other fields are ignored.
 */
export class SseReader {
  private data: string[] = [];

  /** Feeds one line; returns an event's data when the line ended one. */
  line(line: string): string | undefined {
    if (line === '') return this.flush();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    const value = colon === -1 ? '' : line.slice(colon + 1);
    this.data.push(value.startsWith(' ') ? value.slice(1) : value);
    return undefined;
  }

  /** The data of an event the stream ended without a blank line after, if any. */
  flush(): string | undefined {
    if (this.data.length === 0) return undefined;
    const data = this.data.join('\n');
    this.data = [];
    return data;
  }
}
