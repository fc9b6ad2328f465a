/**
 * Readers of streamed answers for the specs: NDJSON (Ollama) and server-sent events (OpenAI), parsed by the
 * rules of their formats rather than by splitting on what this agent happens to send.
 */

/** One JSON value per non-empty line. */
export async function readNdjson(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface ServerSentEvents {
  /** Each event's data (its `data:` lines joined by newlines), in order. */
  data: string[];
  /** Comment lines (`: …`), without the colon. */
  comments: string[];
}

/** The event-stream format of the HTML standard: fields per line, an empty line ends an event, `:` is a comment. */
export async function readServerSentEvents(res: Response): Promise<ServerSentEvents> {
  const lines = (await res.text()).split(/\r\n|\r|\n/);
  const events: ServerSentEvents = { data: [], comments: [] };
  let data: string[] = [];
  for (const line of lines) {
    if (line === '') {
      if (data.length > 0) events.data.push(data.join('\n'));
      data = [];
    } else if (line.startsWith(':')) {
      events.comments.push(line.slice(1).trimStart());
    } else {
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
    }
  }
  // A stream cut short leaves its last event undispatched, as a browser would.
  return events;
}

/** The JSON events of an OpenAI stream, up to (not including) `[DONE]`; `done` says whether it came. */
export function openAiChunks(events: ServerSentEvents): { chunks: Record<string, unknown>[]; done: boolean } {
  const end = events.data.indexOf('[DONE]');
  const json = end === -1 ? events.data : events.data.slice(0, end);
  return { chunks: json.map((d) => JSON.parse(d) as Record<string, unknown>), done: end !== -1 };
}
