/**
 * The hive_tokens payloads (docs/architecture.md, "Live events"): the pieces of streamed answers that one replica
 * relays to the others, many per NOTIFY. PostgreSQL refuses a payload of 8,000 bytes or more, and every NOTIFY
 * serialises on one commit lock, so pieces are packed into as few payloads as fit.
 */

/** Below PostgreSQL's 8,000-byte limit, with room to spare. */
export const MAX_TOKEN_PAYLOAD_BYTES = 7_900;

/** One piece of a streamed answer: the `n`-th (from 1) of the attempt whose in_progress event has seq `seq`. */
export interface TokenPiece {
  taskId: string;
  seq: number;
  n: number;
  /** The piece as the adapters hand it over ({ content } or { tool_calls }), JSON. */
  chunk: Record<string, unknown>;
}

type Entry = [taskId: string, seq: number, n: number, chunk: Record<string, unknown>];

/**
 * `<replica id>\n<JSON array of [taskId, seq, n, chunk]>` payloads holding every piece in order, each below
 * MAX_TOKEN_PAYLOAD_BYTES. A piece too large for a payload of its own is left out (`skipped` counts them): readers
 * on other replicas miss it, and get the whole answer with the task's completed event.
 */
export function packTokenPayloads(
  replicaId: string,
  pieces: readonly TokenPiece[],
): { payloads: string[]; skipped: number } {
  const head = `${replicaId}\n`;
  const room = MAX_TOKEN_PAYLOAD_BYTES - Buffer.byteLength(head) - 2; // the brackets
  const payloads: string[] = [];
  let entries: string[] = [];
  let bytes = 0;
  let skipped = 0;
  for (const piece of pieces) {
    const entry = JSON.stringify([piece.taskId, piece.seq, piece.n, piece.chunk] satisfies Entry);
    const size = Buffer.byteLength(entry);
    if (size > room) {
      skipped += 1;
      continue;
    }
    const separator = entries.length > 0 ? 1 : 0;
    if (bytes + separator + size > room) {
      payloads.push(`${head}[${entries.join(',')}]`);
      entries = [];
      bytes = 0;
    }
    bytes += (entries.length > 0 ? 1 : 0) + size;
    entries.push(entry);
  }
  if (entries.length > 0) payloads.push(`${head}[${entries.join(',')}]`);
  return { payloads, skipped };
}

const isEntry = (value: unknown): value is Entry =>
  Array.isArray(value) &&
  value.length === 4 &&
  typeof value[0] === 'string' &&
  Number.isInteger(value[1]) &&
  Number.isInteger(value[2]) &&
  typeof value[3] === 'object' &&
  value[3] !== null &&
  !Array.isArray(value[3]);

/** The sender and pieces of a payload; undefined for one that is not a token payload (nothing is trusted blindly). */
export function parseTokenPayload(payload: string): { replicaId: string; pieces: TokenPiece[] } | undefined {
  const newline = payload.indexOf('\n');
  if (newline < 0) return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(payload.slice(newline + 1));
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  const pieces = entries.filter(isEntry).map(([taskId, seq, n, chunk]) => ({ taskId, seq, n, chunk }));
  return { replicaId: payload.slice(0, newline), pieces };
}
