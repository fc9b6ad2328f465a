import type { TaskEvent, TaskWithEvents, TokenPiece } from '@hive/database';
import type { AnswerChunk, TaskResult } from '../operations/operation-types.js';
import type { CallStart, GatewayCallEnd } from './gateway-call.types.js';
import { OpenCall } from './open-call.js';

const TASK_ID = 'task-1';
const ANSWER: TaskResult = {
  message: { role: 'assistant', content: 'Hello there' },
  model: 'llama3',
  done_reason: 'stop',
  prompt_eval_count: 5,
  eval_count: 2,
};

/** One step of a task's history: a status, or an attempt beginning on an agent. */
type Step = Exclude<TaskEvent['status'], 'in_progress'> | { in_progress: string };

/**
 * The task as a read after `steps` shows it: its events (seq from 1), its status that of the last step (a retrying
 * task is pending again), its agent that of the latest attempt unless it is back in the queue.
 */
function taskAfter(steps: Step[], fields: Partial<TaskWithEvents> = {}): TaskWithEvents {
  const events: TaskEvent[] = steps.map((step, i) =>
    typeof step === 'string'
      ? { seq: i + 1, status: step, at: '2026-01-01T00:00:00Z' }
      : { seq: i + 1, status: 'in_progress', at: '2026-01-01T00:00:00Z', agent: step.in_progress },
  );
  const last = events.at(-1)?.status ?? 'pending';
  const status = last === 'retrying' ? 'pending' : last;
  const agent = events.findLast((event) => event.status === 'in_progress')?.agent ?? null;
  return {
    id: TASK_ID,
    type: null,
    operation: 'chat',
    model: 'llama3',
    priority: 3,
    status,
    context: {},
    input: { messages: [{ role: 'user', content: 'Hi' }] },
    assigned_agent: status === 'pending' ? null : agent,
    result: status === 'completed' ? (ANSWER as unknown as Record<string, unknown>) : null,
    error: status === 'failed' ? 'the agent answered 500' : null,
    attempts: events.filter((event) => event.status === 'in_progress').length,
    max_attempts: 3,
    timeout_ms: null,
    stream: true,
    callback_url: null,
    webhook: null,
    gateway: 'openai',
    retain: 'full',
    created_at: new Date('2026-01-01T00:00:00Z'),
    started_at: null,
    completed_at: null,
    events,
    ...fields,
  };
}

/** Any wait: how long a test waited is not its business. */
const anyMs = expect.any(Number) as number;

/** An error message that says `words`. */
const mentioning = (words: string) => expect.stringContaining(words) as string;

/** The `n`-th piece of the attempt whose in_progress event has seq `seq`. */
const piece = (seq: number, n: number, content: string): TokenPiece => ({
  taskId: TASK_ID,
  seq,
  n,
  chunk: { content },
});

/**
 * A call submitted `waitedMs` ago, with what reached its observer (each piece and the agent it was credited to)
 * and its hooks.
 */
function openCall(waitedMs = 0) {
  const chunks: { chunk: AnswerChunk; agentId: string }[] = [];
  const starts: CallStart[] = [];
  let interruptions = 0;
  const call = new OpenCall(
    TASK_ID,
    performance.now() - waitedMs,
    { onChunk: (chunk, start) => chunks.push({ chunk, agentId: start.agentId }) },
    { started: (start) => starts.push(start), interrupted: () => (interruptions += 1) },
  );
  return { call, chunks, starts, interruptions: () => interruptions };
}

/** What the client heard, piece by piece. */
const contents = (chunks: { chunk: AnswerChunk }[]) => chunks.map(({ chunk }) => chunk.content);

/** The call's end, once it came (every test that awaits it first checks `done`, so nothing hangs). */
async function endOf(call: OpenCall): Promise<GatewayCallEnd> {
  expect(call.done).toBe(true);
  return call.ended;
}

describe('OpenCall', () => {
  describe('its start', () => {
    it('is set by the first attempt, once, with the whole ms the call waited', () => {
      const { call, starts } = openCall(1234.4);
      expect(call.current).toBeUndefined();
      call.began('agent-a', 2);
      call.began('agent-a', 2);
      expect(call.current).toBeDefined();
      expect(starts).toHaveLength(1);
      const [start] = starts;
      expect(start).toEqual({ taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs });
      expect(Number.isInteger(start?.queueMs)).toBe(true);
      expect(start?.queueMs).toBeGreaterThanOrEqual(1234);
      expect(call.current).toBe(start);
    });

    it('gives a call that began at once a queueMs of 0 or more', () => {
      const { call, starts } = openCall();
      call.began('agent-a', 2);
      expect(starts[0]?.queueMs).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(starts[0]?.queueMs)).toBe(true);
    });

    it('is replaced by a retry on another agent before any piece went out, without starting twice', async () => {
      const { call, starts, chunks } = openCall();
      call.began('agent-a', 2);
      call.began('agent-b', 4);
      expect(call.current?.agentId).toBe('agent-b');
      expect(starts.map((start) => start.agentId)).toEqual(['agent-a']);
      call.tokens([piece(4, 1, 'Hel')]);
      expect(chunks).toEqual([{ chunk: { content: 'Hel' }, agentId: 'agent-b' }]);
      // The answering attempt's agent is what the client is told (x-hive-agent).
      call.answered(ANSWER);
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'completed',
        result: ANSWER,
        start: { taskId: TASK_ID, agentId: 'agent-b', queueMs: anyMs },
      });
    });

    it('follows a retry the feed reads on another agent before any piece went out', () => {
      const { call, starts } = openCall();
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'retrying', { in_progress: 'agent-b' }]));
      expect(call.current?.agentId).toBe('agent-b');
      expect(starts.map((start) => start.agentId)).toEqual(['agent-a']);
      expect(call.done).toBe(false);
    });

    it('stays with the agent whose piece went out, whatever attempt begins after', () => {
      const { call, chunks } = openCall();
      call.began('agent-a', 2);
      call.tokens([piece(2, 1, 'Hel')]);
      call.began('agent-b', 4);
      expect(call.current?.agentId).toBe('agent-a');
      call.tokens([piece(2, 2, 'lo')]);
      expect(chunks).toEqual([
        { chunk: { content: 'Hel' }, agentId: 'agent-a' },
        { chunk: { content: 'lo' }, agentId: 'agent-a' },
      ]);
    });
  });

  describe('its pieces', () => {
    it('are held while its agent is unknown, then handed over in order once the attempt began', () => {
      const { call, chunks } = openCall();
      call.tokens([piece(2, 1, 'One, ')]);
      call.tokens([piece(2, 2, 'two, '), piece(2, 3, 'three')]);
      expect(chunks).toEqual([]);
      call.began('agent-a', 2);
      expect(chunks).toEqual([
        { chunk: { content: 'One, ' }, agentId: 'agent-a' },
        { chunk: { content: 'two, ' }, agentId: 'agent-a' },
        { chunk: { content: 'three' }, agentId: 'agent-a' },
      ]);
      call.tokens([piece(2, 4, '.')]);
      expect(contents(chunks)).toEqual(['One, ', 'two, ', 'three', '.']);
    });

    it('are handed over once a read of the running task names its agent', () => {
      const { call, chunks } = openCall();
      call.tokens([piece(2, 1, 'Hi')]);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      expect(chunks).toEqual([{ chunk: { content: 'Hi' }, agentId: 'agent-a' }]);
    });

    it('held for an attempt that is no longer the one running are dropped, not handed to the next', () => {
      const { call, chunks } = openCall();
      call.tokens([piece(2, 1, 'lost')]);
      call.began('agent-b', 4);
      expect(chunks).toEqual([]);
      call.tokens([piece(4, 1, 'kept')]);
      expect(chunks).toEqual([{ chunk: { content: 'kept' }, agentId: 'agent-b' }]);
    });

    it('of an attempt other than the one that streamed are dropped', () => {
      const { call, chunks } = openCall();
      call.began('agent-a', 2);
      call.tokens([piece(2, 1, 'Hel'), piece(4, 1, 'Other')]);
      call.tokens([piece(4, 2, ' answer'), piece(2, 2, 'lo')]);
      expect(contents(chunks)).toEqual(['Hel', 'lo']);
    });
  });

  describe('its end', () => {
    it('is completed with its start when its runner answers', async () => {
      const { call } = openCall();
      call.began('agent-a', 2);
      expect(call.done).toBe(false);
      call.answered(ANSWER);
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'completed',
        result: ANSWER,
        start: { taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs },
      });
    });

    it('is completed with the result of a completed task read, even when no start was heard', async () => {
      const { call, starts } = openCall();
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'completed']));
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'completed',
        result: ANSWER,
        start: { taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs },
      });
      expect(starts.map((start) => start.agentId)).toEqual(['agent-a']);
    });

    it('is failed with the task error, and the start the client heard, when the task failed', async () => {
      const { call } = openCall();
      call.began('agent-a', 2);
      call.tokens([piece(2, 1, 'Hel')]);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'failed'], { error: 'agent-a answered 500' }));
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'failed',
        taskId: TASK_ID,
        error: 'agent-a answered 500',
        start: { taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs },
      });
    });

    it('is failed when someone cancelled the task', async () => {
      const { call } = openCall();
      call.seen(taskAfter(['pending', 'cancelled']));
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'failed',
        taskId: TASK_ID,
        error: mentioning('cancelled'),
      });
    });

    it('is a queue timeout when the cancellation heard is its own queue timeout', async () => {
      const { call } = openCall();
      call.leavingQueue = true;
      call.seen(taskAfter(['pending', 'cancelled']));
      await expect(endOf(call)).resolves.toEqual({ outcome: 'queue_timeout', taskId: TASK_ID });
    });

    it('is failed, and the task interrupted once, when the task goes back to the queue after a piece went out', async () => {
      const { call, interruptions } = openCall();
      call.began('agent-a', 2);
      call.tokens([piece(2, 1, 'Hel')]);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      expect(call.done).toBe(false);
      // Its replica died mid-answer: the lease reaper put the task back in the queue.
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'pending']));
      // With the start its client heard, so that its stream ends with the dialect's error event.
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'failed',
        taskId: TASK_ID,
        error: mentioning('broke off'),
        start: { taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs },
      });
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'pending', { in_progress: 'agent-b' }]));
      expect(interruptions()).toBe(1);
    });

    it('is failed, and the task interrupted once, when a later attempt is read after a piece went out', async () => {
      const { call, interruptions, chunks } = openCall();
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      call.tokens([piece(2, 1, 'Hel')]);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'pending', { in_progress: 'agent-b' }]));
      // With the start its client heard, so that its stream ends with the dialect's error event.
      await expect(endOf(call)).resolves.toEqual({
        outcome: 'failed',
        taskId: TASK_ID,
        error: mentioning('broke off'),
        start: { taskId: TASK_ID, agentId: 'agent-a', queueMs: anyMs },
      });
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'pending', { in_progress: 'agent-b' }, 'pending']));
      expect(interruptions()).toBe(1);
      call.tokens([piece(4, 1, 'Hel')]);
      expect(contents(chunks)).toEqual(['Hel']);
    });

    it('ignores a read older than one already seen', () => {
      const { call, interruptions } = openCall();
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'retrying', { in_progress: 'agent-b' }]));
      call.tokens([piece(4, 1, 'Hel')]);
      // Reads of the task before its retry, landing late: the call neither goes back to agent-a nor breaks off.
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      call.seen(taskAfter(['pending']));
      expect(call.current?.agentId).toBe('agent-b');
      expect(call.done).toBe(false);
      expect(interruptions()).toBe(0);
    });

    it('ignores a read older than one already seen before any piece went out', () => {
      const { call, starts } = openCall();
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'retrying', { in_progress: 'agent-b' }]));
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }]));
      expect(call.current?.agentId).toBe('agent-b');
      expect(starts.map((start) => start.agentId)).toEqual(['agent-b']);
    });
  });

  describe('the first end', () => {
    it('wins over a second end()', async () => {
      const { call } = openCall();
      call.end({ outcome: 'client_closed', taskId: TASK_ID });
      call.end({ outcome: 'replica_stopping', taskId: TASK_ID });
      await expect(endOf(call)).resolves.toEqual({ outcome: 'client_closed', taskId: TASK_ID });
    });

    it('wins over an answer after the task failed', async () => {
      const { call } = openCall();
      call.began('agent-a', 2);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'failed']));
      call.answered(ANSWER);
      await expect(endOf(call)).resolves.toMatchObject({ outcome: 'failed' });
    });

    it('wins over a completed task read after the client left', async () => {
      const { call } = openCall();
      call.began('agent-a', 2);
      call.end({ outcome: 'client_closed', taskId: TASK_ID });
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'completed']));
      await expect(endOf(call)).resolves.toEqual({ outcome: 'client_closed', taskId: TASK_ID });
    });

    it('wins over a queue timeout after the answer came', async () => {
      const { call } = openCall();
      call.began('agent-a', 2);
      call.answered(ANSWER);
      call.leavingQueue = true;
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'cancelled']));
      call.end({ outcome: 'queue_timeout', taskId: TASK_ID });
      await expect(endOf(call)).resolves.toMatchObject({ outcome: 'completed', result: ANSWER });
    });

    it('lets nothing reach the observer or the hooks after it', async () => {
      const { call, chunks, starts, interruptions } = openCall();
      call.tokens([piece(2, 1, 'Held')]);
      call.end({ outcome: 'replica_stopping', taskId: TASK_ID });
      call.began('agent-a', 2);
      call.tokens([piece(2, 2, 'Late')]);
      call.seen(taskAfter(['pending', { in_progress: 'agent-a' }, 'pending']));
      expect(chunks).toEqual([]);
      expect(starts).toEqual([]);
      expect(interruptions()).toBe(0);
      await expect(endOf(call)).resolves.toEqual({ outcome: 'replica_stopping', taskId: TASK_ID });
    });

    it('stops the pieces of a call that was streaming', () => {
      const { call, chunks } = openCall();
      call.began('agent-a', 2);
      call.tokens([piece(2, 1, 'Hel')]);
      call.end({ outcome: 'client_closed', taskId: TASK_ID });
      call.tokens([piece(2, 2, 'lo')]);
      expect(contents(chunks)).toEqual(['Hel']);
    });
  });
});
