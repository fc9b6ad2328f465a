import type { AnswerChunk, TaskResult, ToolCall } from '@hive/coordinator';

/**
 * What of an answer went out as pieces, so that its end sends what the pieces did not carry (an agent that streams
 * its tool calls only in its last message, or an answer that arrived whole).
 */
export class StreamedAnswer {
  private text = '';
  private calls = 0;

  /** The piece, noted as sent. */
  sent(chunk: AnswerChunk): AnswerChunk {
    this.text += chunk.content ?? '';
    this.calls += chunk.tool_calls?.length ?? 0;
    return chunk;
  }

  /** What the result holds beyond what was sent. */
  rest(result: TaskResult): { content: string; toolCalls: ToolCall[] } {
    const whole = result.message?.content ?? result.response ?? '';
    const content = whole.startsWith(this.text) ? whole.slice(this.text.length) : '';
    const toolCalls = (result.message?.tool_calls ?? []).slice(this.calls);
    return { content, toolCalls };
  }

  /** How many tool calls went out so far (the index of the next). */
  get toolCallsSent(): number {
    return this.calls;
  }
}
