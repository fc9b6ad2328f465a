import type { AnswerChunk, CallStart, TaskResult } from '@hive/coordinator';

/**
 * How one endpoint of a dialect writes an answer: whole, or streamed as pieces, an end and, on a failure after the
 * first piece, an error event. Made once the answering attempt is known (`start`: ids name the task).
 */
export interface AnswerFormat {
  /** The content type of the streamed answer. */
  readonly streamType: string;
  /** The text of one streamed piece ('' for none). */
  piece(chunk: AnswerChunk): string;
  /** The text that ends a streamed answer. */
  finish(result: TaskResult): string;
  /** The text that ends a streamed answer that failed. */
  error(message: string): string;
  /** The whole answer. */
  whole(result: TaskResult): unknown;
}

/** What a dialect's endpoint knows when its answer begins. */
export interface AnswerContext {
  start: CallStart;
  /** The model as the client named it. */
  model: string;
  /** Unix seconds. */
  created: number;
}

export type AnswerFormatFactory = (context: AnswerContext) => AnswerFormat;
