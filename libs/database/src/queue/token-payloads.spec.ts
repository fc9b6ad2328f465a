import { MAX_TOKEN_PAYLOAD_BYTES, packTokenPayloads, parseTokenPayload, type TokenPiece } from './token-payloads.js';

const piece = (n: number, content: string, taskId = 'task-a'): TokenPiece => ({
  taskId,
  seq: 2,
  n,
  chunk: { content },
});

describe('token payloads', () => {
  it('packs pieces of several tasks into one payload and reads them back in order', () => {
    const pieces = [piece(1, 'Hel'), piece(1, 'Bon', 'task-b'), piece(2, 'lo'), piece(2, 'jour', 'task-b')];
    const { payloads, skipped } = packTokenPayloads('replica-1', pieces);
    expect(payloads).toHaveLength(1);
    expect(skipped).toBe(0);
    expect(parseTokenPayload(payloads[0] ?? '')).toEqual({ replicaId: 'replica-1', pieces });
  });

  it('splits into payloads below the limit, counting bytes (not characters), without losing or reordering pieces', () => {
    const pieces = Array.from({ length: 400 }, (_, i) => piece(i + 1, `€${'é'.repeat(20)}✓ ${i}`));
    const { payloads } = packTokenPayloads('replica-1', pieces);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_TOKEN_PAYLOAD_BYTES);
    expect(payloads.flatMap((p) => parseTokenPayload(p)?.pieces ?? [])).toEqual(pieces);
  });

  it('leaves out a piece too large for any payload, and counts it', () => {
    const pieces = [piece(1, 'a'), piece(2, 'x'.repeat(MAX_TOKEN_PAYLOAD_BYTES)), piece(3, 'b')];
    const { payloads, skipped } = packTokenPayloads('r', pieces);
    expect(skipped).toBe(1);
    expect(payloads.flatMap((p) => parseTokenPayload(p)?.pieces ?? []).map((p) => p.n)).toEqual([1, 3]);
  });

  it('escapes what JSON must, so a NUL or a newline in a piece survives', () => {
    const pieces = [piece(1, 'a\u0000b\nc"d\\')];
    const [payload = ''] = packTokenPayloads('r', pieces).payloads;
    expect(parseTokenPayload(payload)?.pieces).toEqual(pieces);
  });

  it('refuses payloads that are not token payloads, and drops malformed entries', () => {
    expect(parseTokenPayload('no newline')).toBeUndefined();
    expect(parseTokenPayload('r\nnot json')).toBeUndefined();
    expect(parseTokenPayload('r\n{"a":1}')).toBeUndefined();
    expect(parseTokenPayload('r\n[["t",1,1,{"content":"x"}],["t","1",2,{}],[1,2,3,{}],["t",1,3,null]]')).toEqual({
      replicaId: 'r',
      pieces: [{ taskId: 't', seq: 1, n: 1, chunk: { content: 'x' } }],
    });
  });
});
