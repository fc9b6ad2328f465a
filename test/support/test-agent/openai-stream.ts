/**
 * OpenAI's streamed chat completion: server-sent events, one chat.completion.chunk per word (the first with the
 * role), tool calls as a named call then pieces of its arguments, a chunk with the finish reason, the usage chunk
 * when asked for (stream_options.include_usage), then `data: [DONE]`.
 */
import { pieces } from './canned-answers.js';
import { openAiErrors } from './error-answers.js';
import { isRecord, writeStream } from './http.js';
import type { AnswerContext } from './inference.js';
import type { Completion } from './openai-chat.js';

const event = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/** Tool-call arguments arrive in pieces of up to 8 characters, so a client has to join them. */
const ARGUMENT_PIECES = /[\s\S]{1,8}/g;

/** The deltas of the answer, one chunk each, before the chunk that finishes it. */
function deltas({ content, toolCalls }: Completion): Record<string, unknown>[] {
  if (toolCalls.length === 0) {
    const words = pieces(content);
    return (words.length > 0 ? words : ['']).map((piece, at) =>
      at === 0 ? { role: 'assistant', content: piece } : { content: piece },
    );
  }
  return toolCalls.flatMap(({ id, type, function: { name, arguments: args } }, index) => [
    {
      ...(index === 0 ? { role: 'assistant', content: null } : {}),
      tool_calls: [{ index, id, type, function: { name, arguments: '' } }],
    },
    ...(args.match(ARGUMENT_PIECES) ?? []).map((piece) => ({
      tool_calls: [{ index, function: { arguments: piece } }],
    })),
  ]);
}

export async function streamCompletion(context: AnswerContext, completion: Completion): Promise<void> {
  const { res, body, reply, streamError } = context;
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const { id, created, model } = completion;
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const chunk = (choices: unknown[], usage: unknown = null): string =>
    event({ id, object: 'chat.completion.chunk', created, model, choices, ...(includeUsage ? { usage } : {}) });
  const choice = (delta: unknown, finishReason: string | null = null) => [
    { index: 0, delta, logprobs: null, finish_reason: finishReason },
  ];

  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.write(': ping\n\n'); // llama.cpp's keep-alive comment: clients must skip it
  const chunks = deltas(completion).map((delta) => chunk(choice(delta)));
  const end = (): string =>
    chunk(choice({}, completion.finishReason)) + (includeUsage ? chunk([], completion.usage) : '') + 'data: [DONE]\n\n';
  const failure = streamError && {
    afterChunks: streamError.afterChunks,
    line: openAiErrors.streamError(streamError.message),
  };
  await writeStream(res, chunks, reply.chunkDelayMs ?? 0, end, failure);
}
