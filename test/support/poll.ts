import { inspect } from 'node:util';

export interface PollOptions {
  /** What is awaited, for the failure message ("task 42 to be completed"). */
  describe: string;
  /** Gives up after this long; only turns a hang into a readable failure, never a timed assertion. */
  timeoutMs?: number;
  intervalMs?: number;
}

const show = (value: unknown): string => inspect(value, { depth: 6, breakLength: 120, maxArrayLength: 50 });

/**
 * Reads `read()` until `done(value)` holds and returns that value. When the deadline passes it fails with the
 * description and the last value read (or the last error `read` threw), so a failure shows where things stood.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { describe, timeoutMs = 10_000, intervalMs = 25 }: PollOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await read();
      last = { value };
      if (done(value)) return value;
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const state =
        last === undefined ? 'nothing read' : 'value' in last ? show(last.value) : `error: ${show(last.error)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}; last state: ${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `condition()` holds; `state()` (when given) is shown on failure. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  options: PollOptions & { state?: () => unknown },
): Promise<void> {
  const { state, ...rest } = options;
  await pollUntil(
    async () => ({ ok: await condition(), state: state?.() }),
    (v) => v.ok,
    rest,
  );
}
