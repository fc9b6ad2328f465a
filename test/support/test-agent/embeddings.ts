/** Deterministic embeddings: the same model and text always give the same unit vector. */
import { createHash } from 'node:crypto';

/** `dimensions` numbers in [-1, 1] from sha256(model, text, block), scaled to length 1. */
export function embedding(model: string, text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block += 1) {
    const digest = createHash('sha256').update(`${model}\0${text}\0${block}`).digest();
    for (let at = 0; at + 4 <= digest.length && values.length < dimensions; at += 4) {
      values.push((digest.readUInt32BE(at) / 0xffff_ffff) * 2 - 1);
    }
  }
  const length = Math.hypot(...values) || 1;
  return values.map((v) => v / length);
}

/** OpenAI's `encoding_format: "base64"`: the float32 little-endian bytes, base64 encoded. */
export function base64Embedding(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}
