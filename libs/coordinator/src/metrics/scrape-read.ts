/** Short enough for a 15 s scrape to see fresh numbers, long enough that a scrape reads the database once. */
const TTL_MS = 5_000;

/**
 * A database read for /api/metrics, the same on every replica: made at most once per TTL however many gauges and
 * scrapes ask, bounded by `limitMs`, and while one is still stuck (a hanging database) no second one starts, so
 * scrapes never pile up connections. Undefined when it failed or took too long (`onFailure` is told why).
 */
export class ScrapeRead<T> {
  private cached: { readonly at: number; readonly value: Promise<T | undefined> } | undefined;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly limitMs: number,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get(now = Date.now()): Promise<T | undefined> {
    if (this.cached === undefined || now - this.cached.at >= TTL_MS) {
      this.cached = { at: now, value: this.bounded() };
    }
    return this.cached.value;
  }

  private async bounded(): Promise<T | undefined> {
    this.reading ??= this.load().finally(() => (this.reading = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.limitMs} ms`)), this.limitMs);
    });
    try {
      return await Promise.race([this.reading, timeout]);
    } catch (error) {
      this.onFailure(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
