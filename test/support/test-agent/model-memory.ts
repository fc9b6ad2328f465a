/**
 * Which models the agent holds in memory, like Ollama's scheduler: loading a model takes time, loads happen one at a
 * time, requests for a model being loaded wait for that load, and the least recently used model is evicted when
 * more than `maxLoaded` are loaded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelMemoryOptions } from './types.js';

export class ModelMemory {
  /** Most recently used first. */
  private readonly loaded: string[] = [];
  private readonly loading = new Map<string, Promise<void>>();
  /** Loads waiting for the current one to end, in arrival order. */
  private readonly queued: (() => void)[] = [];
  private busy = false;
  private started = 0;

  /** `options` undefined: a model is loaded instantly on first use and never evicted. `signal` ends every load. */
  constructor(
    private readonly options: ModelMemoryOptions | undefined,
    private readonly signal: AbortSignal,
  ) {}

  get loads(): number {
    return this.started;
  }

  get models(): string[] {
    return [...this.loaded];
  }

  /** Loads `model` if needed and marks it used; resolves with the nanoseconds this request spent waiting for loads. */
  async use(model: string): Promise<number> {
    if (this.loaded.includes(model)) {
      this.touch(model);
      return 0;
    }
    if (this.options === undefined) {
      this.started += 1;
      this.loaded.unshift(model);
      return 0;
    }
    const startedNs = process.hrtime.bigint();
    const pending = this.loading.get(model);
    await (pending ?? this.load(model, this.options));
    this.touch(model);
    const waited = Number(process.hrtime.bigint() - startedNs);
    // Timers may fire a little before the high-resolution clock says the delay has passed: never report less.
    return pending === undefined ? Math.max(waited, this.options.loadDelayMs * 1_000_000) : waited;
  }

  /** Ollama's keep_alive 0: the model leaves memory now. */
  unload(model: string): void {
    const at = this.loaded.indexOf(model);
    if (at !== -1) this.loaded.splice(at, 1);
  }

  /** Keeps only the models still served. */
  retain(served: (model: string) => boolean): void {
    for (const model of this.models) if (!served(model)) this.unload(model);
  }

  private touch(model: string): void {
    this.unload(model);
    this.loaded.unshift(model);
  }

  private load(model: string, { loadDelayMs, maxLoaded }: ModelMemoryOptions): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const start = (): void => {
        this.busy = true;
        this.started += 1;
        sleep(loadDelayMs, undefined, { signal: this.signal })
          .then(() => {
            this.loaded.unshift(model);
            this.loaded.splice(Math.max(maxLoaded, 1)); // the least recently used go
            resolve();
          }, reject)
          .finally(() => {
            this.loading.delete(model);
            this.busy = false;
            this.queued.shift()?.();
          });
      };
      // Started at once when idle, so `loads` counts it as soon as the request is taken.
      if (this.busy) this.queued.push(start);
      else start();
    });
    this.loading.set(model, done);
    return done;
  }
}
