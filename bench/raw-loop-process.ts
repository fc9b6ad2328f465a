/**
 * The raw loop (raw-loop.ts) in a child process of its own, like Hive: started on a database, asked over IPC to
 * process the tasks already in its table, stopped. Its pid is there for the CPU readings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { RawLoopReply, RawLoopRequest, RawRunResult } from './raw-loop.js';

const RAW_LOOP = resolve(import.meta.dirname, 'raw-loop.js');

export class RawLoopProcess {
  private readonly child: ChildProcess;
  private readonly replies: RawLoopReply[] = [];
  private readonly exited: Promise<unknown>;
  private wake: (() => void) | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (reply: RawLoopReply) => {
      this.replies.push(reply);
      this.wake?.();
    });
    this.exited = once(child, 'exit');
  }

  /** Starts the loop and waits until it is ready; `poolMax` is its pg pool size, `claimBatch` its claim limit. */
  static async start(databaseUrl: string, poolMax: number, claimBatch: number): Promise<RawLoopProcess> {
    const child = spawn(process.execPath, [RAW_LOOP], {
      env: {
        PATH: process.env.PATH ?? '',
        RAW_DATABASE_URL: databaseUrl,
        RAW_POOL_MAX: String(poolMax),
        RAW_CLAIM_BATCH: String(claimBatch),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const loop = new RawLoopProcess(child);
    try {
      const ready = await loop.next();
      if (ready.type !== 'ready') throw new Error(`raw loop: expected ready, got ${ready.type}`);
    } catch (error) {
      await loop.stop();
      throw error;
    }
    return loop;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Processes tasks until `expected` have finished (they must already be in the table). */
  async run(expected: number): Promise<RawRunResult> {
    this.child.send({ type: 'run', expected } satisfies RawLoopRequest);
    const reply = await this.next();
    if (reply.type === 'error') throw new Error(`raw loop failed: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`raw loop: unexpected ${reply.type}`);
    return reply.result;
  }

  /** Asks the loop to close its pool and end; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies RawLoopRequest);
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private async next(): Promise<RawLoopReply> {
    while (this.replies.length === 0) {
      await Promise.race([
        new Promise<void>((ok) => (this.wake = ok)),
        this.exited.then(() => Promise.reject(new Error('raw loop exited'))),
      ]);
    }
    return this.replies.shift() as RawLoopReply;
  }
}
